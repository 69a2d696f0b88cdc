import { createServer } from 'node:http';
import { configureHttpServer } from './bootstrap';

describe('configureHttpServer', () => {
  const limits = { port: 0, bodyLimitBytes: 1024, headersTimeoutMs: 10_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5000, shutdownReadyDelayMs: 0 };

  it('sets the three timeouts from the config', () => {
    const server = createServer();
    configureHttpServer(server, limits);
    expect(server.headersTimeout).toBe(10_000);
    expect(server.requestTimeout).toBe(30_000);
    expect(server.keepAliveTimeout).toBe(5000);
  });

  it("sweeps for expired requests every second instead of Node's 30 s, and never less often than the headers timeout", () => {
    const server = createServer() as ReturnType<typeof createServer> & { connectionsCheckingInterval: number };
    expect(server.connectionsCheckingInterval).toBe(30_000);
    configureHttpServer(server, limits);
    expect(server.connectionsCheckingInterval).toBe(1000);
    configureHttpServer(server, { ...limits, headersTimeoutMs: 300 });
    expect(server.connectionsCheckingInterval).toBe(300);
  });
});
