import { Inject, Injectable, OnApplicationShutdown, OnModuleInit, Optional } from '@nestjs/common';
import Redis, { Cluster, RedisOptions } from 'ioredis';
import { InjectPinoLogger, PinoLogger } from 'nestjs-pino';
import { AppConfig } from '../config/app-config';
import { describeNodes, maskRedisUrl } from '../config/redis-config';
import { APP_CONFIG } from '../config/app-config.module';
import { settlesWithin } from '../common/deadline';
import { Clock, CLOCK, systemClock } from '../common/clock';
import { QueueUnavailableError } from './queue-errors';
import { RedisOutageReporter } from './redis-outage-reporter';
import { evicting, readServerFacts, RedisServerFacts, RedisVersionError, tooOld } from './redis-server-check';
import { defineScripts, loadScriptSource, ScriptArg, SCRIPTS, ScriptCommands, ScriptName } from './script-loader';

/** A standalone or sentinel-managed server (Redis), or a Redis Cluster (Cluster): the same commands. */
export type RedisClient = Redis | Cluster;
export type CommandClient = RedisClient & ScriptCommands;

/** What a WAIT for replicas after a write came to (see `writeReplicated`). */
export interface ReplicatedWrite {
  /** The script's reply. */
  reply: unknown;
  /** Replicas that acknowledged the write within REDIS_WAIT_TIMEOUT_MS. */
  replicas: number;
}

/** How often at most a write acknowledged by fewer replicas than REDIS_WAIT_REPLICAS is logged. */
const UNDER_REPLICATED_LOG_EVERY_MS = 10_000;

/** How long idle workers block on the wake-up marker at most; bounds the idle command rate. */
export const MAX_BLOCK_MS = 5000;
const BOOT_CONNECT_WAIT_MS = 3000;
/** Resolves true once `client` is ready, false after BOOT_CONNECT_WAIT_MS. */
function firstConnection(client: RedisClient): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), BOOT_CONNECT_WAIT_MS);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

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
 *   apart from `subscriber` so that subscribing and unsubscribing it never touches cancel delivery;
 * - `replicated`: only with REDIS_WAIT_REPLICAS, the enqueues followed by WAIT, which blocks its
 *   connection until replicas acknowledge (so it never holds up a heartbeat or a fetch).
 * Each is a plain connection, a sentinel-managed one (asks the sentinels for the primary) or an ioredis
 * Cluster (one connection per node it uses; pub/sub on one node, which the cluster bus fans out to).
 * Closed in onApplicationShutdown, the last phase, after workers have saved their results.
 */
@Injectable()
export class RedisConnections implements OnModuleInit, OnApplicationShutdown {
  readonly commands: CommandClient;
  private blockingClient?: RedisClient;
  private readonly blockingByKey = new Map<string, RedisClient>();
  private subscriberClient?: RedisClient;
  private eventsClient?: RedisClient;
  private replicatedClient?: CommandClient;
  private readonly outage: RedisOutageReporter;
  private closing = false;
  private underReplicated = { count: 0, loggedAt: -Infinity };
  private scriptSources?: string[];

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
      // A worker's fetch and settle calls are batches already: sent at once rather than at the next
      // setImmediate (after the handlers that run meanwhile) and behind the autopipeline in flight, so
      // Redis leases the next batch while the worker runs the current one.
      // enqueue groups the submits of a tick itself (EnqueueGroups): its call goes out at once.
      autoPipeliningIgnoredCommands: ['fetch', 'settle', 'enqueue'],
    }) as CommandClient;
    defineScripts(this.commands);
    this.preloadScripts(this.commands);
  }

  /**
   * Waits briefly for the first connection so a fresh process does not answer its first requests with
   * 503, then checks the server(s): the boot fails on a Redis older than 6.2 and warns loudly when one
   * may evict keys. A Redis not reachable at boot is checked once it first answers (too old: logged
   * at fatal, since the boot is over by then).
   */
  async onModuleInit(): Promise<void> {
    // The WAIT connection opens with the others: it has no offline queue, so the first submits
    // would find it still connecting.
    const replicated = this.config.redis.waitReplicas > 0 ? firstConnection(this.replicated) : Promise.resolve(true);
    const [ready] = await Promise.all([firstConnection(this.commands), replicated]);
    if (ready) {
      try {
        await this.checkServers();
      } catch (err) {
        // The boot fails here, so no shutdown phase will run to close the connections.
        this.closing = true;
        this.commands.disconnect(false);
        this.replicatedClient?.disconnect(false);
        throw err;
      }
      return;
    }
    this.logger.error(
      { redis: this.describeTarget() },
      'Redis is not reachable; the service starts anyway, keeps retrying, and reports not ready until it answers',
    );
    this.commands.once('ready', () => {
      this.checkServers().catch((err: unknown) => {
        if (err instanceof RedisVersionError) this.logger.fatal({ redis: this.describeTarget() }, err.message);
      });
    });
  }

  /**
   * The version and eviction policy of every server that holds queue data: the one server, the
   * sentinels' primary, or every cluster master. Throws RedisVersionError for a server older than 6.2.
   */
  private async checkServers(): Promise<void> {
    let servers: RedisServerFacts[];
    try {
      servers = await this.serverFacts();
    } catch (err) {
      // Redis went away between connecting and INFO: the outage report says so; nothing to check.
      this.reportFailure(err);
      return;
    }
    const old = tooOld(servers);
    if (old.length > 0) throw new RedisVersionError(old);
    for (const s of evicting(servers)) {
      this.logger.warn(
        { redis: s.address, maxmemory_policy: s.maxmemoryPolicy },
        'Redis maxmemory-policy is not noeviction: under memory pressure Redis may evict accepted tasks. Set maxmemory-policy noeviction',
      );
    }
    this.logger.info(
      { redis: this.describeTarget(), servers: servers.map((s) => ({ address: s.address, version: s.version, maxmemory_policy: s.maxmemoryPolicy })) },
      'Redis connected',
    );
  }

  /** INFO of the one server, the sentinels' primary, or each cluster master. */
  async serverFacts(): Promise<RedisServerFacts[]> {
    const client = this.commands;
    if (client instanceof Cluster) {
      return Promise.all(client.nodes('master').map((node) => readServerFacts(node, `${node.options.host}:${node.options.port}`)));
    }
    return [await readServerFacts(client, this.describeTarget())];
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

  get blocking(): RedisClient {
    this.blockingClient ??= this.createBlocking();
    return this.blockingClient;
  }

  /** REDIS_CLUSTER_NODES is set: the connections are ioredis Cluster clients. */
  get isCluster(): boolean {
    return this.config.redis.cluster !== undefined;
  }

  /**
   * On Cluster, a blocking connection of its own per key: one BZPOPMIN may not span slots (each queue's
   * marker is in its own), and a connection blocked on one key holds up any other command sent on it.
   */
  blockingFor(key: string): RedisClient {
    let client = this.blockingByKey.get(key);
    if (!client) {
      client = this.createBlocking();
      this.blockingByKey.set(key, client);
    }
    return client;
  }

  private createBlocking(): RedisClient {
    // Blocking calls last up to MAX_BLOCK_MS, so their timeout must be longer than the block. A
    // wait may be queued while the connection opens: it writes nothing, so replaying it is harmless.
    return this.create('blocking', { commandTimeout: MAX_BLOCK_MS + this.config.redis.commandTimeoutMs, enableOfflineQueue: true });
  }

  get subscriber(): RedisClient {
    // SUBSCRIBE waits for the connection however long Redis is away (no retry limit), since ioredis
    // re-subscribes after a reconnect only to channels it had subscribed to.
    this.subscriberClient ??= this.create('subscriber', { enableOfflineQueue: true, maxRetriesPerRequest: null });
    return this.subscriberClient;
  }

  /** Subscriber for task events; like `subscriber`, it waits for Redis however long it is away. */
  get events(): RedisClient {
    this.eventsClient ??= this.create('events', { enableOfflineQueue: true, maxRetriesPerRequest: null });
    return this.eventsClient;
  }

  /**
   * Runs one script and then `WAIT <REDIS_WAIT_REPLICAS> <REDIS_WAIT_TIMEOUT_MS>` in one pipeline on the
   * `replicated` connection: WAIT counts the replicas holding every earlier write of its own connection,
   * and a pipeline goes to one node (on Cluster, the node of the script's keys). Fewer replicas than
   * asked throws QueueUnavailableError (503): the write is on the primary and may well run, but a
   * failover now could lose it, and an answer of success is a promise that it will not be lost. A
   * client retrying with the same Idempotency-Key gets the stored task, not a second one.
   */
  async writeReplicated(script: ScriptName, args: ScriptArg[]): Promise<ReplicatedWrite> {
    const { waitReplicas, waitTimeoutMs } = this.config.redis;
    const pipeline = this.replicated.pipeline();
    (pipeline as unknown as Record<ScriptName, (...a: ScriptArg[]) => unknown>)[script](...args);
    pipeline.wait(waitReplicas, waitTimeoutMs);
    const replies = (await pipeline.exec()) ?? [];
    const [scriptError, reply] = replies[0] ?? [new Error('the pipeline returned nothing'), undefined];
    if (scriptError) throw scriptError;
    const [waitError, acknowledged] = replies[1] ?? [undefined, 0];
    const replicas = waitError ? 0 : Number(acknowledged);
    if (replicas < waitReplicas) {
      this.logUnderReplicated(replicas, waitError ?? undefined);
      throw new QueueUnavailableError(new Error(`written to the primary, but ${replicas} of ${waitReplicas} replicas acknowledged it within ${waitTimeoutMs} ms`));
    }
    return { reply, replicas };
  }

  private get replicated(): CommandClient {
    // WAIT may block for REDIS_WAIT_TIMEOUT_MS, so its command timeout must be longer.
    this.replicatedClient ??= this.create('replicated', {
      commandTimeout: this.config.redis.waitTimeoutMs + this.config.redis.commandTimeoutMs,
      enableAutoPipelining: true,
    }) as CommandClient;
    if (!this.replicatedClient.enqueue) {
      defineScripts(this.replicatedClient);
      this.preloadScripts(this.replicatedClient);
    }
    return this.replicatedClient;
  }

  /**
   * On Cluster, SCRIPT LOAD every script on each node as ioredis adds it. ioredis falls back from
   * EVALSHA to EVAL on NOSCRIPT for a lone command, but not inside an (auto)pipeline that a MOVED or
   * ASK sent on to a node that never ran the script (seen while a slot migrates): there NOSCRIPT
   * would reach the caller. A failed load (node away) leaves the fallback as it was.
   */
  private preloadScripts(client: RedisClient): void {
    if (!(client instanceof Cluster)) return;
    this.scriptSources ??= Object.values(SCRIPTS).map((spec) => loadScriptSource(spec.file));
    const sources = this.scriptSources;
    client.on('+node', (node: Redis) => {
      for (const source of sources) node.script('LOAD', source).catch(() => undefined);
    });
  }

  private logUnderReplicated(replicas: number, err?: Error): void {
    this.underReplicated.count += 1;
    const now = Date.now();
    if (now - this.underReplicated.loggedAt < UNDER_REPLICATED_LOG_EVERY_MS) return;
    this.logger.warn(
      { redis: this.describeTarget(), replicas, wanted: this.config.redis.waitReplicas, writes: this.underReplicated.count, err },
      'Enqueued tasks were acknowledged by fewer replicas than REDIS_WAIT_REPLICAS: answered 503 (they are on the primary and may still run)',
    );
    this.underReplicated = { count: 0, loggedAt: now };
  }

  /** Interrupts every blocked BZPOPMIN (shutdown): the connections are dropped, not reconnected. */
  closeBlocking(): void {
    this.blockingClient?.disconnect(false);
    this.blockingClient = undefined;
    for (const client of this.blockingByKey.values()) client.disconnect(false);
    this.blockingByKey.clear();
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
    this.replicatedClient?.disconnect(false);
    if (this.commands.status === 'ready') {
      await settlesWithin(this.commands.quit(), Math.min(QUIT_WAIT_MS, this.config.redis.commandTimeoutMs));
    }
    this.commands.disconnect(false);
  }

  private create(role: string, overrides: RedisOptions & { enableAutoPipelining?: boolean }): RedisClient {
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
    const tls = redis.tls ? {} : undefined;
    const credentials = { username: redis.username, password: redis.password };
    let client: RedisClient;
    if (redis.cluster) {
      // Node connections always queue while they connect and never reconnect on their own (ioredis
      // refreshes the slot map instead); the cluster-level options carry the offline-queue choice.
      const { enableOfflineQueue, enableAutoPipelining, autoPipeliningIgnoredCommands, retryStrategy, ...nodeOptions } = options;
      client = new Cluster(redis.cluster, {
        enableOfflineQueue,
        enableAutoPipelining,
        autoPipeliningIgnoredCommands,
        clusterRetryStrategy: retryStrategy,
        slotsRefreshTimeout: 2000,
        redisOptions: { ...nodeOptions, ...credentials, tls },
        // Certificates name the hosts the cluster announces; resolving them first would break TLS checks.
        dnsLookup: redis.tls ? (address, callback) => callback(null, address) : undefined,
      });
      client.on('node error', (err: Error) => this.reportFailure(err));
    } else if (redis.sentinel) {
      client = new Redis({
        sentinels: redis.sentinel.nodes,
        name: redis.sentinel.name,
        sentinelPassword: redis.sentinel.password,
        enableTLSForSentinelMode: redis.tls,
        sentinelTLS: tls,
        ...credentials,
        tls,
        db: redis.db,
        // The sentinels demote the old primary only at their next INFO round (up to 10 s later), and it
        // accepts writes meanwhile, lost when it resyncs as a replica: follow +switch-master at once.
        failoverDetector: true,
        // A demoted primary answers READONLY until the sentinels' CLIENT KILL arrives: reconnect at once
        // (asking the sentinels again); the command itself fails with a 503, never half-applied.
        reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 1 : false),
        ...options,
      });
    } else if (redis.url) {
      client = new Redis(redis.url, options);
    } else {
      client = new Redis({ host: redis.host, port: redis.port, ...credentials, db: redis.db, tls, ...options });
    }
    client.on('error', (err: Error) => this.reportFailure(err));
    return client;
  }

  /** Where Redis is, for logs: never a password. */
  describeTarget(): string {
    const { redis } = this.config;
    const user = redis.username ? `${redis.username}@` : '';
    const tls = redis.tls ? ' (tls)' : '';
    if (redis.cluster) return `cluster ${user}${describeNodes(redis.cluster)}${tls}`;
    if (redis.sentinel) return `sentinel ${redis.sentinel.name} via ${describeNodes(redis.sentinel.nodes)}${tls}`;
    if (redis.url) return maskRedisUrl(redis.url);
    return `${user}${redis.host}:${redis.port}/${redis.db}${tls}`;
  }
}
