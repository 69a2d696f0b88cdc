import { createServer } from 'node:net';

/** A free TCP port on the loopback interface (free when asked: bind it soon). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

/** Whether nothing listens on this loopback port now. */
export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * A free loopback port whose port + `offset` is free too (and at most 65535): what a Redis Cluster node
 * needs, its cluster bus listening on port + 10000. Both come from the ephemeral range, where the bus
 * port of a port freePort gave was now and then some connection's local port (a bench-smoke run failed
 * with "bind: Address already in use" on it). `next` gives the candidates (freePort; a test's list).
 */
export async function freePortWithBus(offset = 10_000, next: () => Promise<number> = freePort): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    const port = await next();
    if (port + offset <= 65_535 && (await portIsFree(port + offset))) return port;
  }
  throw new Error(`no free loopback port with port + ${offset} free too`);
}
