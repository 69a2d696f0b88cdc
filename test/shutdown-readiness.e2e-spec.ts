import { get } from 'node:http';
import { ServiceProcess, startService, stopService } from './support/service-process';

/**
 * 'reset': the kernel completed the handshake into the listen backlog, then the listener closed before
 * Node accepted the connection, so the kernel reset it. That can only happen at the moment of closing,
 * which the test checks by order: after the first 'reset' nothing but 'reset' or 'refused' may follow.
 */
type Seen = number | 'refused' | 'reset';

/** GET over a new TCP connection (no keep-alive agent), so each answer proves the listener accepted one. */
function fresh(url: string): Promise<Seen> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = get(url, { agent: false }, (res) => {
      answered = true;
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ECONNREFUSED') resolve('refused');
      else if (err.code === 'ECONNRESET' && !answered) resolve('reset');
      else reject(err);
    });
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
    const firstClosed = seen.findIndex((s) => s === 'refused' || s === 'reset');
    expect(first503).toBeGreaterThanOrEqual(0); // readiness turned 503 while connections were still accepted
    expect(firstClosed).toBeGreaterThan(first503);
    expect(seen.slice(first503, firstClosed).every((s) => s === 503)).toBe(true); // never 200 again
    // Once the listener is closing nothing is served again: a reset only at the closing moment.
    expect(seen.slice(firstClosed).every((s) => s === 'refused' || s === 'reset')).toBe(true);
    expect(servedDuringDelay).toBe(200);
    const liveAnswers = seenLive.filter((s) => typeof s === 'number');
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
