import { Global, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { CLOCK } from '../../common/clock';
import { loadAppConfig } from '../../config/app-config';
import { APP_CONFIG } from '../../config/app-config.module';
import { HttpTaskClient } from './http-client';
import { HttpTaskClientModule } from './http-task.module';

describe('HttpTaskClientModule', () => {
  it('builds the client from the config and closes its pool when the application shuts down', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const config = loadAppConfig({ HTTP_TASK_ALLOWED_HOSTS: '127.0.0.1', HTTP_TASK_MAX_RESPONSE_BYTES: '1' });
    @Global()
    @Module({
      providers: [
        { provide: APP_CONFIG, useValue: config },
        { provide: CLOCK, useValue: { now: () => 0 } },
      ],
      exports: [APP_CONFIG, CLOCK],
    })
    class StubsModule {}
    const moduleRef = await Test.createTestingModule({ imports: [StubsModule, HttpTaskClientModule] }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    const client = app.get(HttpTaskClient);
    const close = jest.spyOn(client, 'close');
    try {
      expect(client.policy.match('127.0.0.1')).toBe('exact');
      const spec = { url: new URL(`http://127.0.0.1:${port}/`), method: 'GET' as const, headers: {}, timeoutMs: 5000 };
      const response = await client.call(spec, { taskId: 't', attempt: 1 }, new AbortController().signal);
      expect(response).toMatchObject({ status: 200, truncated: true });
      await app.close();
      expect(close).toHaveBeenCalledTimes(1);
      await expect(close.mock.results[0].value).resolves.toBeUndefined();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
