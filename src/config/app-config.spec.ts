import { AppConfig, ConfigValidationError, loadAppConfig, parseByteSize } from './app-config';

/** Runs loadAppConfig and returns the ConfigValidationError it throws (fails the test when it does not). */
function configError(env: Record<string, string | undefined>): ConfigValidationError {
  let caught: unknown;
  try {
    loadAppConfig(env);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(ConfigValidationError);
  return caught as ConfigValidationError;
}

describe('loadAppConfig', () => {
  describe('defaults', () => {
    let config: AppConfig;

    beforeAll(() => {
      config = loadAppConfig({});
    });

    it('serves on port 8080 with a 1mb body limit', () => {
      expect(config.server).toEqual({
        port: 8080,
        bodyLimitBytes: 1_048_576,
        headersTimeoutMs: 10_000,
        requestTimeoutMs: 30_000,
        keepAliveTimeoutMs: 5000,
        shutdownReadyDelayMs: 5000,
      });
    });

    it('connects to localhost:6379, db 0, no password, no URL, no TLS, no WAIT for replicas', () => {
      expect(config.redis).toEqual({
        url: undefined,
        host: 'localhost',
        port: 6379,
        password: undefined,
        db: 0,
        commandTimeoutMs: 1000,
        username: undefined,
        tls: false,
        cluster: undefined,
        sentinel: undefined,
        waitReplicas: 0,
        waitTimeoutMs: 1000,
      });
    });

    it('runs every role', () => {
      expect(config.role).toBe('all');
    });

    it('uses the "taskqueue" prefix, one day of retention, idempotency keys kept one day, completed tasks stored compact', () => {
      expect(config.queue).toEqual({ prefix: 'taskqueue', retentionS: 86_400, idempotencyTtlS: 86_400, compactCompleted: true, storeTaskDefaults: false });
    });

    it('runs 3 workers, prefetching at most 100, with a 30 s lease, a 30 s shutdown timeout and a 30 min task timeout', () => {
      expect(config.worker).toEqual({
        concurrency: 3,
        prefetch: 100,
        leaseMs: 30_000,
        shutdownTimeoutMs: 30_000,
        taskTimeoutMs: 1_800_000,
        queues: { strict: false },
      });
    });

    it('bounds payloads and results at 512 KiB each', () => {
      expect(config.limits).toEqual({ maxPayloadBytes: 524_288, maxResultBytes: 524_288 });
    });

    it('WORKER_PREFETCH sets the prefetch cap; 0 turns prefetching off', () => {
      expect(loadAppConfig({ WORKER_PREFETCH: '0' }).worker.prefetch).toBe(0);
      expect(loadAppConfig({ WORKER_PREFETCH: '50' }).worker.prefetch).toBe(50);
      expect(() => loadAppConfig({ WORKER_PREFETCH: '-1' })).toThrow(/WORKER_PREFETCH/);
    });

    it('retries 3 times from a 1 s base delay, capped at one hour', () => {
      expect(config.retry).toEqual({ baseDelayMs: 1000, maxDelayMs: 3_600_000, defaultMaxRetry: 3 });
    });

    it('makes slow tasks take 5 s and flaky tasks fail half the time', () => {
      expect(config.handlers).toEqual({ slowTaskMs: 5000, flakyFailureRate: 0.5, demoTaskTypes: true });
    });

    it('logs at info', () => {
      expect(config.log).toEqual({ level: 'info' });
    });
  });

  it('treats empty strings as unset', () => {
    const empty = loadAppConfig({
      SERVER_PORT: '',
      REDIS_ADDR: '',
      REDIS_PASSWORD: '',
      REDIS_URL: '',
      WORKER_COUNT: '',
      APP_ROLE: '',
      QUEUE_PREFIX: '',
      BODY_LIMIT: '',
      FLAKY_FAILURE_RATE: '',
      LOG_LEVEL: '',
    });
    expect(empty).toEqual(loadAppConfig({}));
    expect(empty.redis.password).toBeUndefined();
    expect(empty.redis.url).toBeUndefined();
  });

  it('ignores variables it does not know', () => {
    expect(loadAppConfig({ PATH: '/usr/bin', HOME: '/root', SERVER_PORTS: 'x' })).toEqual(loadAppConfig({}));
  });

  it('reads every variable', () => {
    const config = loadAppConfig({
      SERVER_PORT: '9090',
      REDIS_ADDR: 'redis.internal:6380',
      REDIS_PASSWORD: 's3cret',
      REDIS_DB: '2',
      REDIS_URL: 'rediss://user:pw@example.com:6379/1',
      REDIS_COMMAND_TIMEOUT_MS: '2500',
      REDIS_WAIT_REPLICAS: '1',
      REDIS_WAIT_TIMEOUT_MS: '250',
      WORKER_COUNT: '8',
      APP_ROLE: 'worker',
      QUEUE_PREFIX: 'my-app.v2',
      TASK_LEASE_MS: '60000',
      RETRY_BASE_DELAY_MS: '500',
      RETRY_MAX_DELAY_MS: '10000',
      DEFAULT_MAX_RETRY: '5',
      TASK_RETENTION_S: '3600',
      IDEMPOTENCY_TTL_S: '600',
      SCHEDULER_ENABLED: 'false',
      SCHEDULER_MISFIRE_GRACE_MS: '0',
      SHUTDOWN_TIMEOUT_MS: '0',
      SHUTDOWN_READY_DELAY_MS: '250',
      TASK_TIMEOUT_MS: '120000',
      BODY_LIMIT: '512kb',
      MAX_PAYLOAD_BYTES: '100000',
      MAX_RESULT_BYTES: '2000000',
      HTTP_HEADERS_TIMEOUT_MS: '2000',
      HTTP_REQUEST_TIMEOUT_MS: '4000',
      HTTP_KEEP_ALIVE_TIMEOUT_MS: '1500',
      SLOW_TASK_MS: '100',
      FLAKY_FAILURE_RATE: '0.25',
      DEMO_TASK_TYPES: 'false',
      WORKER_QUEUES: 'critical:6, default:3,low',
      WORKER_QUEUES_STRICT: 'true',
      LOG_LEVEL: 'debug',
      API_KEYS: 'key-one-0123456789,key-two-0123456789',
      METRICS_API_KEY: 'scrape-0123456789abcdef',
      CORS_ORIGINS: 'https://app.example.com,http://localhost:3000',
      DASHBOARD_ENABLED: 'false',
      COMPACT_COMPLETED_TASKS: 'false',
      STORE_TASK_DEFAULTS: 'true',
      HTTP_TASK_ALLOWED_HOSTS: 'Hooks.Example.com, *.svc.example.org,[::1]',
      HTTP_TASK_SIGNING_SECRET: 'sixteen-chars-at-least',
      HTTP_TASK_TIMEOUT_MS: '5000',
      HTTP_TASK_MAX_RESPONSE_BYTES: '1024',
      RATE_LIMIT_PER_MIN: '120',
    });
    expect(config).toEqual({
      role: 'worker',
      server: {
        port: 9090,
        bodyLimitBytes: 524_288,
        headersTimeoutMs: 2000,
        requestTimeoutMs: 4000,
        keepAliveTimeoutMs: 1500,
        shutdownReadyDelayMs: 250,
      },
      redis: {
        url: 'rediss://user:pw@example.com:6379/1',
        host: 'redis.internal',
        port: 6380,
        password: 's3cret',
        db: 2,
        commandTimeoutMs: 2500,
        username: undefined,
        tls: false,
        cluster: undefined,
        sentinel: undefined,
        waitReplicas: 1,
        waitTimeoutMs: 250,
      },
      queue: { prefix: 'my-app.v2', retentionS: 3600, idempotencyTtlS: 600, compactCompleted: false, storeTaskDefaults: true },
      schedules: { schedulerEnabled: false, misfireGraceMs: 0 },
      worker: {
        concurrency: 8,
        prefetch: 100,
        leaseMs: 60_000,
        shutdownTimeoutMs: 0,
        taskTimeoutMs: 120_000,
        queues: {
          weighted: [
            { name: 'critical', weight: 6 },
            { name: 'default', weight: 3 },
            { name: 'low', weight: 1 },
          ],
          strict: true,
        },
      },
      limits: { maxPayloadBytes: 100_000, maxResultBytes: 2_000_000 },
      retry: { baseDelayMs: 500, maxDelayMs: 10_000, defaultMaxRetry: 5 },
      handlers: { slowTaskMs: 100, flakyFailureRate: 0.25, demoTaskTypes: false },
      log: { level: 'debug' },
      rateLimit: { perMinute: 120 },
      security: {
        apiKeys: ['key-one-0123456789', 'key-two-0123456789'],
        metricsApiKey: 'scrape-0123456789abcdef',
        corsOrigins: ['https://app.example.com', 'http://localhost:3000'],
      },
      dashboard: { enabled: false },
      httpTasks: {
        allowedHosts: ['hooks.example.com', '*.svc.example.org', '::1'],
        signingSecret: 'sixteen-chars-at-least',
        timeoutMs: 5000,
        maxResponseBytes: 1024,
      },
    } satisfies AppConfig);
  });

  it('disables http tasks and signs nothing by default', () => {
    expect(loadAppConfig({}).httpTasks).toEqual({ allowedHosts: [], signingSecret: undefined, timeoutMs: 30_000, maxResponseBytes: 65_536 });
  });

  it('names every bad HTTP_TASK_* value, never echoing the secret', () => {
    const problems = (() => {
      try {
        loadAppConfig({
          HTTP_TASK_ALLOWED_HOSTS: 'ok.example.com,https://x.example.com,a.example.com:8080,*.,*.*.example.com,bad_host',
          HTTP_TASK_SIGNING_SECRET: 'short-secret',
          HTTP_TASK_TIMEOUT_MS: '600001',
          HTTP_TASK_MAX_RESPONSE_BYTES: '-1',
        });
      } catch (err) {
        return (err as Error).message;
      }
      throw new Error('expected a ConfigValidationError');
    })();
    for (const entry of ['https://x.example.com', 'a.example.com:8080', '*.', '*.*.example.com', 'bad_host']) {
      expect(problems).toContain(`HTTP_TASK_ALLOWED_HOSTS: "${entry}" is not a host name, an IP address or a pattern like *.example.com (no scheme, port or path)`);
    }
    expect(problems).not.toContain('"ok.example.com"');
    expect(problems).toContain('HTTP_TASK_SIGNING_SECRET must be 16..1024 characters (length 12)');
    expect(problems).not.toContain('short-secret');
    expect(problems).toMatch(/HTTP_TASK_TIMEOUT_MS must not be greater than 600000/);
    expect(problems).toMatch(/HTTP_TASK_MAX_RESPONSE_BYTES must not be less than 0/);
  });

  it('fires schedules unless SCHEDULER_ENABLED=false, with a 5 s misfire grace by default', () => {
    expect(loadAppConfig({}).schedules).toEqual({ schedulerEnabled: true, misfireGraceMs: 5000 });
    expect(() => loadAppConfig({ SCHEDULER_ENABLED: 'yes' })).toThrow(/SCHEDULER_ENABLED must be true or false/);
    expect(() => loadAppConfig({ SCHEDULER_MISFIRE_GRACE_MS: '-1' })).toThrow(/SCHEDULER_MISFIRE_GRACE_MS/);
  });

  it('stores completed tasks compact unless COMPACT_COMPLETED_TASKS=false', () => {
    expect(loadAppConfig({}).queue.compactCompleted).toBe(true);
    expect(loadAppConfig({ COMPACT_COMPLETED_TASKS: 'false' }).queue.compactCompleted).toBe(false);
    expect(loadAppConfig({ COMPACT_COMPLETED_TASKS: 'true' }).queue.compactCompleted).toBe(true);
    expect(() => loadAppConfig({ COMPACT_COMPLETED_TASKS: 'no' })).toThrow(/COMPACT_COMPLETED_TASKS must be true or false/);
  });

  it('leaves default fields out of new tasks unless STORE_TASK_DEFAULTS=true', () => {
    expect(loadAppConfig({}).queue.storeTaskDefaults).toBe(false);
    expect(loadAppConfig({ STORE_TASK_DEFAULTS: 'true' }).queue.storeTaskDefaults).toBe(true);
    expect(loadAppConfig({ STORE_TASK_DEFAULTS: 'false' }).queue.storeTaskDefaults).toBe(false);
    expect(() => loadAppConfig({ STORE_TASK_DEFAULTS: '1' })).toThrow(/STORE_TASK_DEFAULTS must be true or false/);
  });

  it('serves the dashboard unless DASHBOARD_ENABLED=false', () => {
    expect(loadAppConfig({}).dashboard).toEqual({ enabled: true });
    expect(loadAppConfig({ DASHBOARD_ENABLED: 'true' }).dashboard).toEqual({ enabled: true });
    expect(() => loadAppConfig({ DASHBOARD_ENABLED: 'no' })).toThrow(/DASHBOARD_ENABLED must be true or false/);
  });

  it.each([
    ['0', 0],
    ['1', 1],
    ['.5', 0.5],
    ['0.75', 0.75],
    ['1.0', 1],
  ])('accepts FLAKY_FAILURE_RATE=%p as %p', (value, expected) => {
    expect(loadAppConfig({ FLAKY_FAILURE_RATE: value }).handlers.flakyFailureRate).toBe(expected);
  });

  it.each([
    ['1048576', 1_048_576],
    ['1024', 1024],
    ['1kb', 1024],
    ['64mb', 67_108_864],
    ['2MB', 2_097_152],
    ['100KB', 102_400],
    ['2048b', 2048],
  ])('accepts BODY_LIMIT=%p as %p bytes', (value, expected) => {
    expect(loadAppConfig({ BODY_LIMIT: value }).server.bodyLimitBytes).toBe(expected);
  });

  it.each(['all', 'api', 'worker'])('accepts APP_ROLE=%s', (role) => {
    expect(loadAppConfig({ APP_ROLE: role }).role).toBe(role);
  });

  it.each(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])('accepts LOG_LEVEL=%s', (level) => {
    expect(loadAppConfig({ LOG_LEVEL: level }).log.level).toBe(level);
  });

  it.each(['redis://localhost:6379', 'rediss://h:1/0'])('accepts REDIS_URL=%p', (url) => {
    expect(loadAppConfig({ REDIS_URL: url }).redis.url).toBe(url);
  });

  describe('bad values', () => {
    it.each([
      ['SERVER_PORT', 'abc'],
      ['SERVER_PORT', '0'],
      ['SERVER_PORT', '65536'],
      ['SERVER_PORT', '80.5'],
      ['SERVER_PORT', '0x50'],
      ['SERVER_PORT', ' 80'],
      ['SERVER_PORT', '1e3'],
      ['WORKER_COUNT', '-1'],
      ['WORKER_COUNT', '1025'],
      ['WORKER_COUNT', 'three'],
      ['APP_ROLE', 'boss'],
      ['APP_ROLE', 'ALL'],
      ['FLAKY_FAILURE_RATE', '2'],
      ['FLAKY_FAILURE_RATE', '-0.1'],
      ['FLAKY_FAILURE_RATE', 'half'],
      ['FLAKY_FAILURE_RATE', 'NaN'],
      ['DEMO_TASK_TYPES', 'no'],
      ['BODY_LIMIT', 'lots'],
      ['BODY_LIMIT', '1gb'],
      ['BODY_LIMIT', '1.5mb'],
      ['BODY_LIMIT', '100'], // below 1kb
      ['BODY_LIMIT', '65mb'], // above 64mb
      ['REDIS_URL', 'http://x'],
      ['REDIS_URL', 'localhost:6379'],
      ['REDIS_ADDR', 'localhost'],
      ['REDIS_ADDR', 'host:port'],
      ['REDIS_DB', '16'],
      ['REDIS_COMMAND_TIMEOUT_MS', '50'],
      ['QUEUE_PREFIX', 'has space'],
      ['QUEUE_PREFIX', 'x'.repeat(65)],
      ['TASK_LEASE_MS', '999'],
      ['RETRY_BASE_DELAY_MS', '0'],
      ['DEFAULT_MAX_RETRY', '26'],
      ['TASK_RETENTION_S', '0'],
      ['IDEMPOTENCY_TTL_S', '0'],
      ['IDEMPOTENCY_TTL_S', '31536001'],
      ['IDEMPOTENCY_TTL_S', '1d'],
      ['SHUTDOWN_TIMEOUT_MS', '-5'],
      ['SLOW_TASK_MS', '3600001'],
      ['TASK_TIMEOUT_MS', '0'],
      ['TASK_TIMEOUT_MS', '86400001'],
      ['TASK_TIMEOUT_MS', '30s'],
      ['SHUTDOWN_READY_DELAY_MS', '-1'],
      ['SHUTDOWN_READY_DELAY_MS', '60001'],
      ['MAX_PAYLOAD_BYTES', '0'],
      ['MAX_PAYLOAD_BYTES', '67108865'],
      ['MAX_PAYLOAD_BYTES', '512kb'],
      ['MAX_RESULT_BYTES', '0'],
      ['MAX_RESULT_BYTES', '67108865'],
      ['REDIS_COMMAND_TIMEOUT_MS', '60001'],
      ['HTTP_HEADERS_TIMEOUT_MS', '99'],
      ['HTTP_HEADERS_TIMEOUT_MS', '10s'],
      ['HTTP_REQUEST_TIMEOUT_MS', '3600001'],
      ['HTTP_KEEP_ALIVE_TIMEOUT_MS', '0'],
      ['LOG_LEVEL', 'loud'],
      ['LOG_LEVEL', 'INFO'],
    ])('%s=%p throws a ConfigValidationError naming the variable', (name, value) => {
      const error = configError({ [name]: value });
      expect(error.name).toBe('ConfigValidationError');
      expect(error.message).toMatch(/^Invalid configuration:/);
      expect(error.message).toContain(name);
      expect(error.problems.length).toBeGreaterThanOrEqual(1);
      expect(error.problems.every((p) => p.startsWith(name))).toBe(true);
    });

    it.each(['localhost:99999', 'localhost:65536', 'localhost:0'])('REDIS_ADDR=%p (port out of range) is rejected', (addr) => {
      expect(configError({ REDIS_ADDR: addr }).message).toContain('REDIS_ADDR');
    });

    it('quotes the bad value', () => {
      const error = configError({ SERVER_PORT: 'abc' });
      expect(error.message).toContain('"abc"');
    });

    it.each([
      ['APP_ROLE', 'boss', 'APP_ROLE must be one of: all, api, worker'],
      ['LOG_LEVEL', 'loud', 'LOG_LEVEL must be one of: fatal, error, warn, info, debug, trace, silent'],
      ['REDIS_URL', 'http://x', 'REDIS_URL must start with redis:// or rediss://'],
      ['BODY_LIMIT', 'lots', 'BODY_LIMIT must be a size like 1048576, 512kb or 1mb'],
      ['BODY_LIMIT', '10', 'BODY_LIMIT must be between 1kb and 64mb'],
      ['REDIS_ADDR', 'nope', 'REDIS_ADDR must look like host:port'],
    ])('%s=%p explains the rule: %p', (name, value, text) => {
      expect(configError({ [name]: value }).message).toContain(text);
    });

    it('names several bad variables in one error', () => {
      const error = configError({
        SERVER_PORT: 'abc',
        WORKER_COUNT: '-1',
        APP_ROLE: 'boss',
        FLAKY_FAILURE_RATE: '2',
        BODY_LIMIT: 'lots',
        REDIS_URL: 'http://x',
        LOG_LEVEL: 'loud',
      });
      for (const name of ['SERVER_PORT', 'WORKER_COUNT', 'APP_ROLE', 'FLAKY_FAILURE_RATE', 'BODY_LIMIT', 'REDIS_URL', 'LOG_LEVEL']) {
        expect(error.message).toContain(name);
        expect(error.problems.some((p) => p.startsWith(name))).toBe(true);
      }
      // One problem per line.
      expect(error.message.split('\n  - ').length - 1).toBe(error.problems.length);
    });

    it.each([
      ['Critical:1', /WORKER_QUEUES: queue name "Critical" is not valid/],
      ['a.b', /WORKER_QUEUES: queue name "a.b" is not valid/],
      ['critical:0', /WORKER_QUEUES: the weight of "critical" must be an integer from 1 to 1000 \(got "0"\)/],
      ['critical:-2', /WORKER_QUEUES: the weight of "critical" must be an integer/],
      ['critical:1.5', /WORKER_QUEUES: the weight of "critical" must be an integer/],
      ['critical:x', /WORKER_QUEUES: the weight of "critical" must be an integer/],
      ['critical:1001', /WORKER_QUEUES: the weight of "critical" must be an integer/],
      ['a,,b', /WORKER_QUEUES: queue name "" is not valid/],
      ['a:1,a:2', /WORKER_QUEUES: queue "a" is listed twice/],
    ])('rejects WORKER_QUEUES=%s, naming the variable', (value, message) => {
      expect(() => loadAppConfig({ WORKER_QUEUES: value })).toThrow(message);
    });

    it('reads WORKER_QUEUES (a name alone weighs 1; empty = every queue) and rejects a WORKER_QUEUES_STRICT that is not true/false', () => {
      expect(loadAppConfig({ WORKER_QUEUES: 'emails' }).worker.queues).toEqual({ weighted: [{ name: 'emails', weight: 1 }], strict: false });
      expect(loadAppConfig({ WORKER_QUEUES: ' ' }).worker.queues).toEqual({ strict: false });
      expect(() => loadAppConfig({ WORKER_QUEUES_STRICT: 'yes' })).toThrow(/WORKER_QUEUES_STRICT must be true or false/);
    });

    it('rejects RETRY_MAX_DELAY_MS below RETRY_BASE_DELAY_MS', () => {
      const error = configError({ RETRY_BASE_DELAY_MS: '5000', RETRY_MAX_DELAY_MS: '1000' });
      expect(error.message).toContain('RETRY_MAX_DELAY_MS must not be smaller than RETRY_BASE_DELAY_MS');
    });

    it('accepts RETRY_MAX_DELAY_MS equal to RETRY_BASE_DELAY_MS', () => {
      expect(loadAppConfig({ RETRY_BASE_DELAY_MS: '2000', RETRY_MAX_DELAY_MS: '2000' }).retry.maxDelayMs).toBe(2000);
    });

    it.each([
      ['1', 1],
      ['86400000', 86_400_000],
    ])('accepts TASK_TIMEOUT_MS=%p', (value, expected) => {
      expect(loadAppConfig({ TASK_TIMEOUT_MS: value }).worker.taskTimeoutMs).toBe(expected);
    });

    it.each([
      ['0', 0],
      ['60000', 60_000],
    ])('accepts SHUTDOWN_READY_DELAY_MS=%p', (value, expected) => {
      expect(loadAppConfig({ SHUTDOWN_READY_DELAY_MS: value }).server.shutdownReadyDelayMs).toBe(expected);
    });

    it('accepts MAX_RESULT_BYTES up to 64 MiB, whatever BODY_LIMIT is (results never travel in a request)', () => {
      expect(loadAppConfig({ MAX_RESULT_BYTES: '67108864', BODY_LIMIT: '1kb' }).limits.maxResultBytes).toBe(67_108_864);
    });

    it('accepts MAX_PAYLOAD_BYTES up to BODY_LIMIT, and up to 64 MiB with BODY_LIMIT=64mb', () => {
      expect(loadAppConfig({ MAX_PAYLOAD_BYTES: '1048576' }).limits.maxPayloadBytes).toBe(1_048_576);
      expect(loadAppConfig({ MAX_PAYLOAD_BYTES: '67108864', BODY_LIMIT: '64mb' }).limits.maxPayloadBytes).toBe(67_108_864);
    });

    it('rejects MAX_PAYLOAD_BYTES above BODY_LIMIT, naming both', () => {
      const error = configError({ MAX_PAYLOAD_BYTES: '1048577', BODY_LIMIT: '1mb' });
      expect(error.problems).toEqual(['MAX_PAYLOAD_BYTES (1048577) must not be larger than BODY_LIMIT (1048576 bytes)']);
    });

    it('without MAX_PAYLOAD_BYTES, a BODY_LIMIT below 512 KiB is the payload limit too', () => {
      expect(loadAppConfig({ BODY_LIMIT: '64kb' }).limits.maxPayloadBytes).toBe(65_536);
      expect(loadAppConfig({ BODY_LIMIT: '2mb' }).limits.maxPayloadBytes).toBe(524_288);
    });

    it.each([
      ['1000', '3000'], // equal to a third
      ['1001', '3000'],
      ['334', '1000'], // 1000 / 3 = 333.3
      ['60000', '60000'],
    ])('rejects REDIS_COMMAND_TIMEOUT_MS=%p with TASK_LEASE_MS=%p, naming both', (timeout, lease) => {
      const error = configError({ REDIS_COMMAND_TIMEOUT_MS: timeout, TASK_LEASE_MS: lease });
      expect(error.problems).toHaveLength(1);
      expect(error.problems[0]).toMatch(/^REDIS_COMMAND_TIMEOUT_MS \(\d+\) must be smaller than TASK_LEASE_MS \/ 3 \(/);
      expect(error.problems[0]).toContain(`(${timeout})`);
      expect(error.problems[0]).toContain(`${lease} / 3`);
    });

    it.each([
      ['999', '3000', 999],
      ['333', '1000', 333],
      ['100', '1000', 100],
    ])('accepts REDIS_COMMAND_TIMEOUT_MS=%p with TASK_LEASE_MS=%p', (timeout, lease, expected) => {
      expect(loadAppConfig({ REDIS_COMMAND_TIMEOUT_MS: timeout, TASK_LEASE_MS: lease }).redis.commandTimeoutMs).toBe(expected);
    });

    it.each([
      ['30000', 1000],
      ['3003', 1000],
      ['3000', 999],
      ['1500', 499],
      ['1000', 333],
    ])('without REDIS_COMMAND_TIMEOUT_MS and TASK_LEASE_MS=%p, the command timeout is %p (1 s, or just under a third of the lease)', (lease, expected) => {
      expect(loadAppConfig({ TASK_LEASE_MS: lease }).redis.commandTimeoutMs).toBe(expected);
    });

    it('reports a bad TASK_LEASE_MS alone, without a follow-up complaint about REDIS_COMMAND_TIMEOUT_MS', () => {
      expect(configError({ TASK_LEASE_MS: '999', REDIS_COMMAND_TIMEOUT_MS: '5000' }).problems.map((p) => p.split(' ')[0])).toEqual(['TASK_LEASE_MS']);
    });

    it('rejects HTTP_REQUEST_TIMEOUT_MS below HTTP_HEADERS_TIMEOUT_MS (headers are part of the request)', () => {
      const error = configError({ HTTP_HEADERS_TIMEOUT_MS: '5000', HTTP_REQUEST_TIMEOUT_MS: '4000' });
      expect(error.message).toContain('HTTP_REQUEST_TIMEOUT_MS must not be smaller than HTTP_HEADERS_TIMEOUT_MS');
      expect(loadAppConfig({ HTTP_HEADERS_TIMEOUT_MS: '4000', HTTP_REQUEST_TIMEOUT_MS: '4000' }).server.requestTimeoutMs).toBe(4000);
    });
  });
});

describe('parseByteSize', () => {
  it.each([
    ['0', 0],
    ['10', 10],
    ['10b', 10],
    ['1kb', 1024],
    ['1KB', 1024],
    ['3mb', 3 * 1024 * 1024],
  ])('parses %p as %p', (text, expected) => {
    expect(parseByteSize(text)).toBe(expected);
  });

  it.each(['', 'lots', '1gb', '1.5mb', '-1', 'kb', ' 1kb'])('rejects %p', (text) => {
    expect(() => parseByteSize(text)).toThrow(/not a size/);
  });
});
