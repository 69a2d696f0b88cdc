import { Inject, Injectable, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import Redis, { RedisOptions } from 'ioredis';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { settlesWithin } from '../common/deadline';
import { Clock, CLOCK, systemClock } from '../common/clock';
import { RedisOutageReporter } from './redis-outage-reporter';
import { defineScripts, ScriptCommands } from './script-loader';

export type CommandClient = Redis & ScriptCommands;

/** How long idle workers block on the wake-up marker at most; bounds the idle command rate. */
export const MAX_BLOCK_MS = 5000;
const BOOT_CONNECT_WAIT_MS = 3000;
/** Longest wait for QUIT's answer on shutdown. */
const QUIT_WAIT_MS = 1000;

/**
 * Owns every Redis connection of the process; the rest of the code talks to Redis through
 * QueueRepository and TaskEventBus only. Up to four connections, because their traffic must not share a socket:
 * - `commands`: scripts and reads; fails fast (no offline queue) so a request gets 503, not a hang,
 *   and a command that failed is never silently sent later (no ghost task behind a 503);
 * - `blocking`: BZPOPMIN of idle workers, which would stall any other command on its socket;
 * - `subscriber`: the cancel channel (a subscribed connection can issue nothing else);
 * - `events`: the task events channel, in API processes while requests wait for tasks (TaskEventBus);
 *   apart from `subscriber` so that subscribing and unsubscribing it never touches cancel delivery.
 * Closed in onApplicationShutdown, the last phase, after workers have saved their results.
 */
@Injectable()
export class RedisConnections implements OnModuleInit, OnApplicationShutdown {
  readonly commands: CommandClient;
  private blockingClient?: Redis;
  private subscriberClient?: Redis;
  private eventsClient?: Redis;
  private readonly outage: RedisOutageReporter;
  private closing = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectPinoLogger(RedisConnections.name) private readonly logger: PinoLogger,
    // Optional: the check-queue CLI and tests build connections without the common module.
    @Optional() @Inject(CLOCK) clock: Clock = systemClock,
  ) {
    this.outage = new RedisOutageReporter(
      {
        unavailable: (err, suppressed) =>
          this.logger.error(
            { redis: this.describeTarget(), err, suppressed },
            'Redis is unavailable: requests answer 503, workers retry until it answers again',
          ),
        answersAgain: () => this.logger.info({ redis: this.describeTarget() }, 'Redis answers again'),
      },
      () => clock.now(),
    );
    this.commands = this.create('commands', {
      commandTimeout: config.redis.commandTimeoutMs,
      // Commands issued in the same tick (concurrent requests, a worker's fetch and settle) share
      // one socket write: measured as the largest single cost of POST /tasks without it.
      enableAutoPipelining: true,
    }) as CommandClient;
    defineScripts(this.commands);
  }

  /** Waits briefly for the first connection so a fresh process does not answer its first requests with 503. */
  async onModuleInit(): Promise<void> {
    if (this.commands.status === 'ready') return;
    const ready = new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), BOOT_CONNECT_WAIT_MS);
      this.commands.once('ready', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!(await ready)) {
      this.logger.error(
        { redis: this.describeTarget() },
        'Redis is not reachable; the service starts anyway, keeps retrying, and reports not ready until it answers',
      );
    }
  }

  /** Resolves once the command connection is ready (at once if it is), or when `stop` aborts. */
  whenReady(stop: AbortSignal): Promise<void> {
    if (this.commands.status === 'ready' || stop.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        this.commands.off('ready', done);
        stop.removeEventListener('abort', done);
        resolve();
      };
      this.commands.once('ready', done);
      stop.addEventListener('abort', done, { once: true });
    });
  }

  get blocking(): Redis {
    // Blocking calls last up to MAX_BLOCK_MS, so their timeout must be longer than the block. A
    // wait may be queued while the connection opens: it writes nothing, so replaying it is harmless.
    this.blockingClient ??= this.create('blocking', {
      commandTimeout: MAX_BLOCK_MS + this.config.redis.commandTimeoutMs,
      enableOfflineQueue: true,
    });
    return this.blockingClient;
  }

  get subscriber(): Redis {
    // SUBSCRIBE waits for the connection however long Redis is away (no retry limit), since ioredis
    // re-subscribes after a reconnect only to channels it had subscribed to.
    this.subscriberClient ??= this.create('subscriber', { enableOfflineQueue: true, maxRetriesPerRequest: null });
    return this.subscriberClient;
  }

  /** Subscriber for task events; like `subscriber`, it waits for Redis however long it is away. */
  get events(): Redis {
    this.eventsClient ??= this.create('events', { enableOfflineQueue: true, maxRetriesPerRequest: null });
    return this.eventsClient;
  }

  /** Interrupts a blocked BZPOPMIN (shutdown): the connection is dropped, not reconnected. */
  closeBlocking(): void {
    this.blockingClient?.disconnect(false);
    this.blockingClient = undefined;
  }

  /**
   * The one voice of a Redis outage: connection errors and commands that found Redis unavailable, from
   * every part of the process (requests, fetch loop, heartbeat, recoverer), land here, and one line per
   * 30 s says so. Errors Redis answers for good (WRONGTYPE, OOM...) are not an outage and not reported here.
   */
  reportFailure(err: unknown): void {
    // Connections being closed on purpose (shutdown) are not an outage.
    if (this.closing) return;
    this.outage.failure(err);
  }

  /** Called after every successful command; logs the end of an outage once it has been quiet for a while. */
  reportSuccess(): void {
    this.outage.success();
  }

  /**
   * Last shutdown phase. Bounded whatever Redis does (down, paused, answering): the blocking and
   * subscriber connections are dropped (no UNSUBSCRIBE, which would wait for Redis); the command
   * connection gets a QUIT for at most QUIT_WAIT_MS, then is dropped.
   */
  async onApplicationShutdown(): Promise<void> {
    this.closing = true;
    this.closeBlocking();
    this.subscriberClient?.disconnect(false);
    this.eventsClient?.disconnect(false);
    if (this.commands.status === 'ready') {
      await settlesWithin(this.commands.quit(), Math.min(QUIT_WAIT_MS, this.config.redis.commandTimeoutMs));
    }
    this.commands.disconnect(false);
  }

  private create(role: string, overrides: RedisOptions): Redis {
    const { redis } = this.config;
    const options: RedisOptions = {
      connectionName: `taskqueue-${role}`,
      enableOfflineQueue: false,
      // In-flight commands of a dropped connection fail instead of being replayed after reconnect.
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (attempt) => Math.min(100 * attempt, 2000),
      ...overrides,
    };
    const client = redis.url
      ? new Redis(redis.url, options)
      : new Redis({ host: redis.host, port: redis.port, password: redis.password, db: redis.db, ...options });
    client.on('error', (err: Error) => this.reportFailure(err));
    return client;
  }

  private describeTarget(): string {
    const { redis } = this.config;
    return redis.url ? redis.url.replace(/\/\/[^@]*@/, '//***@') : `${redis.host}:${redis.port}/${redis.db}`;
  }
}
