import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { AppRole, EnvironmentVariables, LogLevel, MAX_SIZE_BYTES } from './env.schema';
import { HttpTaskConfig, parseHttpTaskConfig } from './http-task-config';
import { parseSecurityConfig, SecurityConfig } from './security-config';
import { parseRedisTopology, RedisTopologyConfig } from './redis-config';
import { parseWorkerQueues, WorkerQueuesConfig } from './worker-queues-config';

/** Typed configuration, one namespace per area. Built once at boot from the validated environment. */
export interface AppConfig {
  role: AppRole;
  server: {
    port: number;
    bodyLimitBytes: number;
    /** Node's server.headersTimeout, requestTimeout and keepAliveTimeout (set in configureApp). */
    headersTimeoutMs: number;
    requestTimeoutMs: number;
    keepAliveTimeoutMs: number;
    /** After SIGTERM, /health/ready answers 503 this long before the listener closes. */
    shutdownReadyDelayMs: number;
  };
  redis: {
    url?: string;
    host: string;
    port: number;
    password?: string;
    db: number;
    commandTimeoutMs: number;
  } & RedisTopologyConfig;
  /** idempotencyTtlS: how long an Idempotency-Key remembers the task it created. */
  /** compactCompleted: COMPACT_COMPLETED_TASKS (lua/lib/common.lua compact_z); storeTaskDefaults: STORE_TASK_DEFAULTS (lua/enqueue.lua). */
  queue: { prefix: string; retentionS: number; idempotencyTtlS: number; compactCompleted: boolean; storeTaskDefaults: boolean };
  /** Periodic schedules: whether this process fires them, and how late a tick may be and still fire on its own. */
  schedules: { schedulerEnabled: boolean; misfireGraceMs: number };
  worker: {
    concurrency: number;
    prefetch: number;
    leaseMs: number;
    shutdownTimeoutMs: number;
    /** Longest one attempt may run before it is aborted and fails with "timeout after N ms". */
    taskTimeoutMs: number;
    /** WORKER_QUEUES and WORKER_QUEUES_STRICT. */
    queues: WorkerQueuesConfig;
  };
  retry: { baseDelayMs: number; maxDelayMs: number; defaultMaxRetry: number };
  /** Sizes in UTF-8 bytes. */
  limits: { maxPayloadBytes: number; maxResultBytes: number };
  /** demoTaskTypes: slow and flaky are registered (DEMO_TASK_TYPES). */
  handlers: { slowTaskMs: number; flakyFailureRate: number; demoTaskTypes: boolean };
  log: { level: LogLevel };
  /** Requests per minute per client address, shared by every API replica through Redis; 0 = off. */
  rateLimit: { perMinute: number };
  /** API keys and CORS (src/config/security-config.ts). */
  security: SecurityConfig;
  /** The http task type: allowed hosts, signing, limits (src/config/http-task-config.ts). */
  httpTasks: HttpTaskConfig;
  /** The web dashboard at /dashboard, where the API is served. */
  dashboard: { enabled: boolean };
}

export class ConfigValidationError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigValidationError';
  }
}

/** Defaults of the variables whose default depends on another variable (see loadAppConfig). */
const DEFAULT_REDIS_COMMAND_TIMEOUT_MS = 1000;
const DEFAULT_MAX_PAYLOAD_BYTES = 512 * 1024;

/** The optional topology variables (no default, so not among EnvironmentVariables' own keys). */
const OPTIONAL_REDIS_VARIABLES = ['REDIS_USERNAME', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS', 'REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'];

const SIZE_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };

export function parseByteSize(text: string): number {
  const match = /^(\d+)(b|kb|mb)?$/i.exec(text);
  if (!match) throw new Error(`not a size: ${text}`);
  return Number(match[1]) * SIZE_UNITS[(match[2] ?? 'b').toLowerCase()];
}

/**
 * Validates the environment and names every bad variable at once; empty strings count as unset so
 * `REDIS_PASSWORD=` in a compose file behaves like no password.
 */
export function loadAppConfig(source: Record<string, string | undefined>): AppConfig {
  const known = Object.keys(new EnvironmentVariables());
  const raw: Record<string, string> = {};
  for (const key of [...known, 'REDIS_PASSWORD', 'REDIS_URL', 'REDIS_COMMAND_TIMEOUT_MS', 'MAX_PAYLOAD_BYTES', 'API_KEYS', 'METRICS_API_KEY', 'CORS_ORIGINS', 'HTTP_TASK_ALLOWED_HOSTS', 'HTTP_TASK_SIGNING_SECRET', ...OPTIONAL_REDIS_VARIABLES]) {
    const value = source[key];
    if (value !== undefined && value !== '') raw[key] = value;
  }
  const env = plainToInstance(EnvironmentVariables, raw, { exposeDefaultValues: true });
  const errors = validateSync(env, { skipMissingProperties: false, forbidUnknownValues: true });
  const problems = errors.flatMap((e) =>
    Object.values(e.constraints ?? {}).map((message) =>
      message.startsWith(e.property) ? `${message} (got "${raw[e.property]}")` : `${e.property}: ${message}`,
    ),
  );
  const bad = (name: string) => problems.some((p) => p.startsWith(name));
  let bodyLimitBytes = 0;
  if (!bad('BODY_LIMIT')) {
    bodyLimitBytes = parseByteSize(env.BODY_LIMIT);
    if (bodyLimitBytes < 1024 || bodyLimitBytes > MAX_SIZE_BYTES) {
      problems.push(`BODY_LIMIT must be between 1kb and 64mb (got "${env.BODY_LIMIT}")`);
    }
  }
  // A payload travels inside a request body, so it can never be larger than BODY_LIMIT.
  const maxPayloadBytes = env.MAX_PAYLOAD_BYTES ?? Math.min(DEFAULT_MAX_PAYLOAD_BYTES, bodyLimitBytes);
  if (env.MAX_PAYLOAD_BYTES !== undefined && !bad('MAX_PAYLOAD_BYTES') && !bad('BODY_LIMIT') && env.MAX_PAYLOAD_BYTES > bodyLimitBytes) {
    problems.push(`MAX_PAYLOAD_BYTES (${env.MAX_PAYLOAD_BYTES}) must not be larger than BODY_LIMIT (${bodyLimitBytes} bytes)`);
  }
  // A heartbeat is due every TASK_LEASE_MS / 3; a command that may wait longer than that for its
  // answer lets a live task's lease run out while the next heartbeat waits behind it.
  const heartbeatEveryMs = env.TASK_LEASE_MS / 3;
  const commandTimeoutMs = env.REDIS_COMMAND_TIMEOUT_MS ?? Math.min(DEFAULT_REDIS_COMMAND_TIMEOUT_MS, Math.ceil(heartbeatEveryMs) - 1);
  if (!bad('REDIS_COMMAND_TIMEOUT_MS') && !bad('TASK_LEASE_MS') && commandTimeoutMs >= heartbeatEveryMs) {
    problems.push(
      `REDIS_COMMAND_TIMEOUT_MS (${commandTimeoutMs}) must be smaller than TASK_LEASE_MS / 3 (${env.TASK_LEASE_MS} / 3 = ` +
        `${Math.round(heartbeatEveryMs * 10) / 10}): the heartbeat runs every TASK_LEASE_MS / 3 and must get its answer before the next one is due`,
    );
  }
  const redisPort = Number(env.REDIS_ADDR.split(':')[1]);
  if (!problems.some((p) => p.startsWith('REDIS_ADDR')) && !(redisPort >= 1 && redisPort <= 65535)) {
    problems.push(`REDIS_ADDR port must be between 1 and 65535 (got "${env.REDIS_ADDR}")`);
  }
  if (env.HTTP_REQUEST_TIMEOUT_MS < env.HTTP_HEADERS_TIMEOUT_MS) {
    problems.push('HTTP_REQUEST_TIMEOUT_MS must not be smaller than HTTP_HEADERS_TIMEOUT_MS');
  }
  if (env.RETRY_MAX_DELAY_MS < env.RETRY_BASE_DELAY_MS) {
    problems.push('RETRY_MAX_DELAY_MS must not be smaller than RETRY_BASE_DELAY_MS');
  }
  const security = parseSecurityConfig(env, problems);
  const httpTasks = parseHttpTaskConfig(env, problems);
  const topology = parseRedisTopology(env, problems);
  const workerQueues = parseWorkerQueues(env.WORKER_QUEUES, env.WORKER_QUEUES_STRICT, problems);
  if (problems.length > 0) throw new ConfigValidationError(problems);

  const [host] = env.REDIS_ADDR.split(':');
  return {
    role: env.APP_ROLE,
    server: {
      port: env.SERVER_PORT,
      bodyLimitBytes,
      headersTimeoutMs: env.HTTP_HEADERS_TIMEOUT_MS,
      requestTimeoutMs: env.HTTP_REQUEST_TIMEOUT_MS,
      keepAliveTimeoutMs: env.HTTP_KEEP_ALIVE_TIMEOUT_MS,
      shutdownReadyDelayMs: env.SHUTDOWN_READY_DELAY_MS,
    },
    redis: {
      url: env.REDIS_URL,
      host,
      port: redisPort,
      password: env.REDIS_PASSWORD,
      db: env.REDIS_DB,
      commandTimeoutMs,
      ...topology,
    },
    queue: {
      prefix: env.QUEUE_PREFIX,
      retentionS: env.TASK_RETENTION_S,
      idempotencyTtlS: env.IDEMPOTENCY_TTL_S,
      compactCompleted: env.COMPACT_COMPLETED_TASKS === 'true',
      storeTaskDefaults: env.STORE_TASK_DEFAULTS === 'true',
    },
    schedules: { schedulerEnabled: env.SCHEDULER_ENABLED === 'true', misfireGraceMs: env.SCHEDULER_MISFIRE_GRACE_MS },
    worker: {
      concurrency: env.WORKER_COUNT,
      prefetch: env.WORKER_PREFETCH,
      leaseMs: env.TASK_LEASE_MS,
      shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
      taskTimeoutMs: env.TASK_TIMEOUT_MS,
      queues: workerQueues,
    },
    retry: {
      baseDelayMs: env.RETRY_BASE_DELAY_MS,
      maxDelayMs: env.RETRY_MAX_DELAY_MS,
      defaultMaxRetry: env.DEFAULT_MAX_RETRY,
    },
    limits: { maxPayloadBytes, maxResultBytes: env.MAX_RESULT_BYTES },
    handlers: { slowTaskMs: env.SLOW_TASK_MS, flakyFailureRate: env.FLAKY_FAILURE_RATE, demoTaskTypes: env.DEMO_TASK_TYPES === 'true' },
    log: { level: env.LOG_LEVEL },
    rateLimit: { perMinute: env.RATE_LIMIT_PER_MIN },
    security,
    httpTasks,
    dashboard: { enabled: env.DASHBOARD_ENABLED === 'true' },
  };
}
