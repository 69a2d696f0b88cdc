import { Injectable, INestApplication } from '@nestjs/common';
import { NestExpressApplication } from '@nestjs/platform-express';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AppModule } from '../src/app.module';
import { configureApp, NEST_APP_OPTIONS } from '../src/bootstrap';
import { ProcessState } from '../src/lifecycle/process-state';
import { TaskHandler } from '../src/task-types/task-handler';
import { deleteByPrefix, testRedis, uniquePrefix } from './support/redis';
import { testConfig } from './support/test-app';
import { waitFor } from './support/wait';

/** Never settles and ignores its signal: the worst a handler can do to a slot. */
@Injectable()
@TaskHandler('never', { payload: 'string' })
class NeverHandler implements TaskHandler {
  handle(): Promise<string> {
    return new Promise(() => undefined);
  }
}

describe('TASK_TIMEOUT_MS', () => {
  const redis = testRedis();
  const prefix = uniquePrefix('task-timeout');
  let app: INestApplication | undefined;

  afterAll(async () => {
    await app?.close();
    await deleteByPrefix(redis, prefix);
    redis.disconnect();
  });

  it('a handler that never settles fails with the timeout error after its retries, and its slot runs the next task', async () => {
    const config = testConfig({ QUEUE_PREFIX: prefix, WORKER_COUNT: '1', TASK_TIMEOUT_MS: '300', RETRY_BASE_DELAY_MS: '10' });
    const moduleRef = await Test.createTestingModule({ imports: [AppModule.forRoot(config)], providers: [NeverHandler] }).compile();
    app = moduleRef.createNestApplication<NestExpressApplication>(NEST_APP_OPTIONS);
    configureApp(app as NestExpressApplication, config);
    await app.init();
    app.get(ProcessState).markBooted();
    const http = app.getHttpServer();

    const stuck = (await request(http).post('/tasks').send({ type: 'never', max_retry: 1 }).expect(201)).body.id as string;
    const next = (await request(http).post('/tasks').send({ type: 'echo', payload: 'after' }).expect(201)).body.id as string;
    const task = await waitFor(
      async () => {
        const { body } = await request(http).get(`/tasks/${stuck}`);
        return body.status === 'failed' ? body : undefined;
      },
      { timeoutMs: 20_000, what: 'the never-settling task to fail' },
    );
    expect(task).toMatchObject({ status: 'failed', error: 'timeout after 300 ms', retries: 1, attempts: 2 });
    // The only slot was freed each time: the next task ran.
    await waitFor(async () => ((await request(http).get(`/tasks/${next}`)).body.status === 'completed' ? true : undefined), {
      what: 'the next task to complete',
    });
    // The pool is healthy: no slot is stuck.
    await request(http).get('/health').expect(200);
  }, 30_000);
});
