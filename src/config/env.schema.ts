import { Transform } from 'class-transformer';
import {
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
} from 'class-validator';

export const APP_ROLES = ['all', 'api', 'worker'] as const;
export type AppRole = (typeof APP_ROLES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * Environment variables may only be decimal integers written plainly: "3" is 3, but "3.0", "0x10",
 * "1e3" or " 3" are rejected, so a typo never silently becomes a different number.
 */
const toInteger = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : value;

const toNumber = ({ value }: { value: unknown }): unknown =>
  typeof value === 'string' && /^-?(\d+\.?\d*|\.\d+)$/.test(value) ? Number(value) : value;

/** Upper bound of BODY_LIMIT, MAX_PAYLOAD_BYTES and MAX_RESULT_BYTES: 64 MiB. */
export const MAX_SIZE_BYTES = 64 * 1024 * 1024;

/** Upper bound of HTTP_TASK_TIMEOUT_MS and of an http task's own timeout_ms: 10 minutes. */
export const HTTP_TASK_MAX_TIMEOUT_MS = 600_000;

/** Every variable the service reads, with its default. Documented in README "Configuration". */
export class EnvironmentVariables {
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(65535)
  SERVER_PORT = 8080;

  @IsString()
  @Matches(/^[^\s:]+:\d{1,5}$/, { message: 'REDIS_ADDR must look like host:port' })
  REDIS_ADDR = 'localhost:6379';

  @IsOptional()
  @IsString()
  REDIS_PASSWORD?: string;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(15)
  REDIS_DB = 0;

  @IsOptional()
  @Matches(/^rediss?:\/\/\S+$/, { message: 'REDIS_URL must start with redis:// or rediss://' })
  REDIS_URL?: string;

  /** ACL user for REDIS_ADDR, REDIS_CLUSTER_NODES and REDIS_SENTINELS (a REDIS_URL names its own). */
  @IsOptional()
  @IsString()
  @Matches(/^\S+$/, { message: 'REDIS_USERNAME must not contain spaces' })
  REDIS_USERNAME?: string;

  /** TLS for REDIS_ADDR, every cluster node, or the sentinels and the primary; a REDIS_URL uses rediss://. */
  @IsIn(['true', 'false'], { message: 'REDIS_TLS must be true or false' })
  REDIS_TLS = 'false';

  /** Seed nodes of a Redis Cluster, host:port,...; checked with the other topology variables in redis-config.ts. */
  @IsOptional()
  @IsString()
  REDIS_CLUSTER_NODES?: string;

  /** Sentinels, host:port,...; with REDIS_SENTINEL_NAME (the monitored primary's name). */
  @IsOptional()
  @IsString()
  REDIS_SENTINELS?: string;

  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9_.-]{1,128}$/, { message: 'REDIS_SENTINEL_NAME may only contain letters, digits and _ . -' })
  REDIS_SENTINEL_NAME?: string;

  /** Password of the sentinels themselves (`requirepass` in sentinel.conf); the primary's is REDIS_PASSWORD. */
  @IsOptional()
  @IsString()
  REDIS_SENTINEL_PASSWORD?: string;

  /**
   * Replicas that must acknowledge an enqueue (Redis WAIT) before POST /tasks answers; 0 = no WAIT.
   * Narrows the window in which a failover loses acknowledged tasks (see README "Redis topologies").
   */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(16)
  REDIS_WAIT_REPLICAS = 0;

  /** Longest WAIT for REDIS_WAIT_REPLICAS; when it passes with fewer acknowledgements POST /tasks answers 503. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(60_000)
  REDIS_WAIT_TIMEOUT_MS = 1000;

  /**
   * Unset: 1000, or just under TASK_LEASE_MS / 3 when that is smaller (see loadAppConfig). Optional so
   * loadAppConfig can tell "unset" from an explicit value, which must stay below TASK_LEASE_MS / 3.
   */
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(100)
  @Max(60000)
  REDIS_COMMAND_TIMEOUT_MS?: number;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(1024)
  WORKER_COUNT = 3;

  /**
   * Most tasks a worker process may lease beyond its busy slots, so the next task is already in memory
   * when a slot frees. The buffer adapts to task duration (about 20 ms of work per slot), so long tasks
   * are not hoarded. 0 turns prefetching off.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(10_000)
  WORKER_PREFETCH = 100;

  /**
   * Queues this worker process serves, with weights: `critical:6,default:3,low:1` (a name without a weight
   * weighs 1). Unset: every queue in the registry, rediscovered while running. Parsed in
   * worker-queues-config.ts.
   */
  @IsOptional()
  @IsString()
  WORKER_QUEUES?: string;

  /** true: serve WORKER_QUEUES in the order given (strict priority) instead of weighted random order. */
  @IsIn(['true', 'false'], { message: 'WORKER_QUEUES_STRICT must be true or false' })
  WORKER_QUEUES_STRICT = 'false';

  @IsIn(APP_ROLES as unknown as string[], { message: `APP_ROLE must be one of: ${APP_ROLES.join(', ')}` })
  APP_ROLE: AppRole = 'all';

  @IsString()
  @MinLength(1)
  @MaxLength(64)
  @Matches(/^[A-Za-z0-9_.:-]+$/, { message: 'QUEUE_PREFIX may only contain letters, digits and _ . : -' })
  QUEUE_PREFIX = 'taskqueue';

  @Transform(toInteger)
  @IsInt()
  @Min(1000)
  @Max(3_600_000)
  TASK_LEASE_MS = 30_000;

  /** Longest one attempt of a task may run; at the deadline its signal aborts and the attempt fails. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(86_400_000)
  TASK_TIMEOUT_MS = 1_800_000;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(3_600_000)
  RETRY_BASE_DELAY_MS = 1000;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(7 * 24 * 3_600_000)
  RETRY_MAX_DELAY_MS = 3_600_000;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(25)
  DEFAULT_MAX_RETRY = 3;

  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(365 * 86400)
  TASK_RETENTION_S = 86400;

  /**
   * Whether a task that completes is stored compact (about 130 bytes less per completed task, about
   * 2–3 µs more Redis time per completion). On by default since 2026-12-01 (second release that day);
   * `false` while a process of a version before b181af4 still runs (it cannot read a compact task),
   * or where Redis CPU is shorter than Redis memory.
   */
  @IsIn(['true', 'false'], { message: 'COMPACT_COMPLETED_TASKS must be true or false' })
  COMPACT_COMPLETED_TASKS = 'true';

  /**
   * Whether a new task is written as older versions wrote it: it stores the fields that hold their
   * defaults (retries = 0, attempts = 0, updated_at = created_at), and gets an s:pending entry even when
   * it is due at once (64 + 129 bytes more Redis memory per queued task). Off by default since
   * 2026-12-01; `true` while a process of an older version still runs (one before a06bb81 cannot read a
   * task without those fields: its recoverer stops on one, its API answers 500 for one; one before the
   * s:pending change lists and counts pending tasks from s:pending alone).
   */
  @IsIn(['true', 'false'], { message: 'STORE_TASK_DEFAULTS must be true or false' })
  STORE_TASK_DEFAULTS = 'false';

  /** Seconds an Idempotency-Key remembers the task it created (from the first request). */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(365 * 86400)
  IDEMPOTENCY_TTL_S = 86400;

  /** false: this process does not fire periodic schedules (others do; any number may, without a leader). */
  @IsIn(['true', 'false'], { message: 'SCHEDULER_ENABLED must be true or false' })
  SCHEDULER_ENABLED = 'true';

  /**
   * A schedule tick late by at most this long still gets its own task; a schedule further behind (the
   * fleet was down) gets one task for the latest tick missed (README "Schedules").
   */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  SCHEDULER_MISFIRE_GRACE_MS = 5000;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  SHUTDOWN_TIMEOUT_MS = 30_000;

  /**
   * After SIGTERM, how long /health/ready answers 503 while the listener still accepts, so a load
   * balancer stops routing here before connections are refused.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(60_000)
  SHUTDOWN_READY_DELAY_MS = 5000;

  @IsString()
  @Matches(/^\d+(b|kb|mb)?$/i, { message: 'BODY_LIMIT must be a size like 1048576, 512kb or 1mb' })
  BODY_LIMIT = '1mb';

  /**
   * Largest task payload in UTF-8 bytes. Unset: 524288, or BODY_LIMIT when that is smaller (see
   * loadAppConfig); an explicit value may not exceed BODY_LIMIT.
   */
  @IsOptional()
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(MAX_SIZE_BYTES)
  MAX_PAYLOAD_BYTES?: number;

  /** Largest result a handler may return, in UTF-8 bytes; a larger one fails the attempt for good. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(MAX_SIZE_BYTES)
  MAX_RESULT_BYTES = 524_288;

  /** A client must send all request headers within this time, or the connection is closed (slow-loris). */
  @Transform(toInteger)
  @IsInt()
  @Min(100)
  @Max(600_000)
  HTTP_HEADERS_TIMEOUT_MS = 10_000;

  /** A client must send the whole request (headers and body) within this time. */
  @Transform(toInteger)
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  HTTP_REQUEST_TIMEOUT_MS = 30_000;

  /** An idle keep-alive connection is closed after this time. */
  @Transform(toInteger)
  @IsInt()
  @Min(100)
  @Max(600_000)
  HTTP_KEEP_ALIVE_TIMEOUT_MS = 5000;

  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  SLOW_TASK_MS = 5000;

  @Transform(toNumber)
  @IsNumber({ allowNaN: false, allowInfinity: false })
  @Min(0)
  @Max(1)
  FLAKY_FAILURE_RATE = 0.5;

  /** false: the demo types slow and flaky are not registered (a submit of one is a 400 unknown type). */
  @IsIn(['true', 'false'], { message: 'DEMO_TASK_TYPES must be true or false' })
  DEMO_TASK_TYPES = 'true';

  /** Comma-separated API keys; parsed and checked in security-config.ts (never echoed in errors). */
  @IsOptional()
  @IsString()
  API_KEYS?: string;

  /** Key of /metrics alone (Prometheus' bearer token); unset: /metrics follows API_KEYS. */
  @IsOptional()
  @IsString()
  METRICS_API_KEY?: string;

  /** Comma-separated origins allowed by CORS; unset: no CORS headers. */
  @IsOptional()
  @IsString()
  CORS_ORIGINS?: string;

  /**
   * Requests per minute one client address may make to the API (every route but /health* and /metrics),
   * counted in Redis so the limit holds across API replicas; 0 = no limit.
   */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(1_000_000)
  RATE_LIMIT_PER_MIN = 0;

  /** Hosts http tasks may call (comma-separated; parsed in http-task-config.ts); unset: the http type is disabled. */
  @IsOptional()
  @IsString()
  HTTP_TASK_ALLOWED_HOSTS?: string;

  /** Key of the X-Task-Signature HMAC of http tasks (never echoed in errors); unset: requests are not signed. */
  @IsOptional()
  @IsString()
  HTTP_TASK_SIGNING_SECRET?: string;

  /** Timeout of one http task call when its payload has no timeout_ms. */
  @Transform(toInteger)
  @IsInt()
  @Min(1)
  @Max(HTTP_TASK_MAX_TIMEOUT_MS)
  HTTP_TASK_TIMEOUT_MS = 30_000;

  /** Most response body bytes an http task keeps in its result. */
  @Transform(toInteger)
  @IsInt()
  @Min(0)
  @Max(1024 * 1024)
  HTTP_TASK_MAX_RESPONSE_BYTES = 65_536;

  @IsIn(LOG_LEVELS as unknown as string[], { message: `LOG_LEVEL must be one of: ${LOG_LEVELS.join(', ')}` })
  LOG_LEVEL: LogLevel = 'info';

  /** The web dashboard at /dashboard (processes that serve the API); false: not mounted (404). */
  @IsIn(['true', 'false'], { message: 'DASHBOARD_ENABLED must be true or false' })
  DASHBOARD_ENABLED = 'true';
}
