import { get } from 'node:http';
import { ServiceProcess, startService, stopService } from './support/service-process';

type Seen = number | 'refused';

/** GET over a new TCP connection (no keep-alive agent), so each answer proves the listener accepted one. */
function fresh(url: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNREFUSED' ? resolve('refused') : reject(err)));
  });
}

/**
 * On SIGTERM, readiness turns 503 for SHUTDOWN_READY_DELAY_MS while the listener still accepts, so a
 * Kubernetes endpoint controller takes the pod out of rotation before connections are refused.
 * Asserted by the order of what a client sees, not by how long each phase takes.
 */
describe('readiness on SIGTERM (a real process)', () => {
  let service: ServiceProcess | undefined;

  afterEach(async () => {
    await stopService(service);
    service = undefined;
  });

  it('answers 503 on /health/ready over new connections first (/health/live stays 200), and only later refuses connections; exits 0', async () => {
    service = await startService({ APP_ROLE: 'api', SHUTDOWN_READY_DELAY_MS: '1500' });
    const { url } = service;
    expect(await fresh(`${url}/health/ready`)).toBe(200);

    service.child.kill('SIGTERM');
    const seen: Seen[] = [];
    // Liveness checks nothing: a 503 while draining would make Kubernetes kill a pod that stops cleanly.
    const seenLive: Seen[] = [];
    let servedDuringDelay: Seen | undefined;
    for (;;) {
      const status = await fresh(`${url}/health/ready`);
      seen.push(status);
      seenLive.push(await fresh(`${url}/health/live`));
      if (status === 503 && servedDuringDelay === undefined) {
        // The API still serves while readiness says "take me out of rotation".
        servedDuringDelay = await fresh(`${url}/tasks?limit=1`);
      }
      if (status === 'refused') break;
      await new Promise((r) => setTimeout(r, 20));
    }

    const first503 = seen.indexOf(503);
    const firstRefused = seen.indexOf('refused');
    expect(first503).toBeGreaterThanOrEqual(0); // readiness turned 503 while connections were still accepted
    expect(firstRefused).toBeGreaterThan(first503);
    expect(seen.slice(first503, firstRefused).every((s) => s === 503)).toBe(true); // never 200 again
    expect(servedDuringDelay).toBe(200);
    const liveAnswers = seenLive.filter((s) => s !== 'refused');
    expect(liveAnswers.length).toBeGreaterThan(first503); // live was asked while ready said 503
    expect(liveAnswers.every((s) => s === 200)).toBe(true);
    expect(await service.exited).toBe(0);
  }, 60_000);

  it('with SHUTDOWN_READY_DELAY_MS=0 (the test default) the listener closes without waiting, and the process exits 0', async () => {
    service = await startService({ APP_ROLE: 'api' });
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(service.output()).not.toMatch(/"level":50/);
  }, 60_000);
});
