import { createServer, Server } from 'node:net';
import { freePort, freePortWithBus, portIsFree } from '../tools/dev/ports';

const listenOn = (port: number) =>
  new Promise<Server>((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, '127.0.0.1', () => resolve(srv));
  });

/**
 * The port of a Redis Cluster node in the tests, the chaos harness and the benchmark: its cluster bus
 * listens on port + 10000, which must be free too (tools/dev/redis-server.ts, RedisCluster).
 */
describe('freePortWithBus (ports of Redis Cluster nodes)', () => {
  it('passes over a port whose bus port is taken', async () => {
    // Two candidates whose bus ports were free when found; then the first one's bus port is taken.
    const first = await freePortWithBus();
    const second = await freePortWithBus();
    const holder = await listenOn(first + 10_000);
    try {
      const candidates = [first, second];
      const port = await freePortWithBus(10_000, async () => candidates.shift() ?? freePort());
      expect(port).toBe(second);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('gives ports whose bus port is free, 30 times running', async () => {
    for (let i = 0; i < 30; i += 1) {
      const port = await freePortWithBus();
      expect(port + 10_000).toBeLessThanOrEqual(65_535);
      expect({ port, free: await portIsFree(port), busFree: await portIsFree(port + 10_000) }).toEqual({ port, free: true, busFree: true });
    }
  });
});
