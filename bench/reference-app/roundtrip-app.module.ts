import { Body, Controller, Get, Inject, Module, OnModuleDestroy, Post } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import Redis from 'ioredis';
import { parseTaskBody, taskResponse } from './task-body';

const REDIS = Symbol('redis');
/** An empty script: the least any Redis-backed POST /tasks has to wait for is one script call. */
const EMPTY_SCRIPT = 'return 1';

/**
 * The ceiling of a queue on NestJS and Redis: POST /tasks validates the body as the Nest+BullMQ app
 * does, makes one round trip to Redis (EVALSHA of an empty script, through ioredis with the same
 * autopipelining our API process uses) and answers 201 with the task's shape. Nothing is stored: any
 * queue's POST /tasks does this much and more.
 */
@Controller('tasks')
export class RoundTripController {
  constructor(@Inject(REDIS) private readonly redis: Redis & { emptyScript(): Promise<number> }) {}

  @Post()
  async create(@Body() raw: unknown) {
    const body = parseTaskBody(raw);
    await this.redis.emptyScript();
    return taskResponse(randomUUID(), body, Date.now());
  }
}

@Controller('health')
export class RoundTripHealthController {
  @Get()
  health() {
    return { status: 'ok' };
  }
}

@Module({
  controllers: [RoundTripController, RoundTripHealthController],
  providers: [
    {
      provide: REDIS,
      useFactory: () => {
        const redis = new Redis(Number(process.env.BENCH_REDIS_PORT), '127.0.0.1', { enableAutoPipelining: true });
        redis.defineCommand('emptyScript', { numberOfKeys: 0, lua: EMPTY_SCRIPT });
        return redis;
      },
    },
  ],
})
export class RoundTripAppModule implements OnModuleDestroy {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  onModuleDestroy(): void {
    this.redis.disconnect();
  }
}
