import { ConfigValidationError, loadAppConfig } from './app-config';
import { maskRedisUrl } from './redis-config';

function problems(env: Record<string, string>): string[] {
  try {
    loadAppConfig(env);
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems;
    throw err;
  }
  throw new Error('the configuration was accepted');
}

describe('Redis topology configuration', () => {
  it('REDIS_CLUSTER_NODES: the seed nodes, with TLS and an ACL user', () => {
    const { redis } = loadAppConfig({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b.internal:7001',
      REDIS_TLS: 'true',
      REDIS_USERNAME: 'taskqueue',
      REDIS_PASSWORD: 'pw',
    });
    expect(redis.cluster).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'redis-b.internal', port: 7001 },
    ]);
    expect(redis).toMatchObject({ tls: true, username: 'taskqueue', password: 'pw', sentinel: undefined, url: undefined });
  });

  it('REDIS_SENTINELS + REDIS_SENTINEL_NAME (+ REDIS_SENTINEL_PASSWORD): the sentinel group', () => {
    const { redis } = loadAppConfig({
      REDIS_SENTINELS: 's1:26379,s2:26379,s3:26379',
      REDIS_SENTINEL_NAME: 'mymaster',
      REDIS_SENTINEL_PASSWORD: 'sentinel-pw',
      REDIS_PASSWORD: 'primary-pw',
      REDIS_DB: '3',
    });
    expect(redis.sentinel).toEqual({
      nodes: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26379 },
        { host: 's3', port: 26379 },
      ],
      name: 'mymaster',
      password: 'sentinel-pw',
    });
    expect(redis).toMatchObject({ password: 'primary-pw', db: 3, tls: false, cluster: undefined });
  });

  it('rediss:// is the TLS form of REDIS_URL (the user and password ride in the URL)', () => {
    const { redis } = loadAppConfig({ REDIS_URL: 'rediss://app:pw@redis.example.com:6380/0' });
    expect(redis).toMatchObject({ url: 'rediss://app:pw@redis.example.com:6380/0', tls: false, username: undefined });
  });

  it('REDIS_WAIT_REPLICAS and REDIS_WAIT_TIMEOUT_MS', () => {
    expect(loadAppConfig({ REDIS_WAIT_REPLICAS: '2', REDIS_WAIT_TIMEOUT_MS: '300' }).redis).toMatchObject({ waitReplicas: 2, waitTimeoutMs: 300 });
    expect(problems({ REDIS_WAIT_REPLICAS: '-1' })[0]).toMatch(/^REDIS_WAIT_REPLICAS/);
    expect(problems({ REDIS_WAIT_TIMEOUT_MS: '0' })[0]).toMatch(/^REDIS_WAIT_TIMEOUT_MS/);
  });

  it.each([
    [{ REDIS_URL: 'redis://h:1', REDIS_CLUSTER_NODES: 'h:1' }, 'REDIS_URL and REDIS_CLUSTER_NODES are mutually exclusive'],
    [{ REDIS_URL: 'redis://h:1', REDIS_SENTINELS: 'h:1', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_URL and REDIS_SENTINELS are mutually exclusive'],
    [{ REDIS_CLUSTER_NODES: 'h:1', REDIS_SENTINELS: 'h:1', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_CLUSTER_NODES and REDIS_SENTINELS are mutually exclusive'],
    [{ REDIS_URL: 'redis://h:1', REDIS_TLS: 'true' }, 'REDIS_TLS does not apply to REDIS_URL: use a rediss:// URL'],
    [{ REDIS_URL: 'redis://h:1', REDIS_USERNAME: 'u' }, 'REDIS_USERNAME does not apply to REDIS_URL'],
    [{ REDIS_SENTINELS: 'h:26379' }, 'REDIS_SENTINEL_NAME is required with REDIS_SENTINELS'],
    [{ REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINEL_NAME applies only with REDIS_SENTINELS'],
    [{ REDIS_SENTINEL_PASSWORD: 'x' }, 'REDIS_SENTINEL_PASSWORD applies only with REDIS_SENTINELS'],
    [{ REDIS_CLUSTER_NODES: 'h:1', REDIS_DB: '2' }, 'REDIS_DB must be 0 with REDIS_CLUSTER_NODES'],
    [{ REDIS_CLUSTER_NODES: 'a:7000,b' }, 'REDIS_CLUSTER_NODES: "b" is not host:port'],
    [{ REDIS_CLUSTER_NODES: 'a:70000' }, 'REDIS_CLUSTER_NODES: "a:70000" is not host:port'],
    [{ REDIS_SENTINELS: 'a:26379,', REDIS_SENTINEL_NAME: 'm' }, 'REDIS_SENTINELS: "" is not host:port'],
    [{ REDIS_TLS: 'yes' }, 'REDIS_TLS must be true or false'],
    [{ REDIS_SENTINELS: 'a:1', REDIS_SENTINEL_NAME: 'my master' }, 'REDIS_SENTINEL_NAME may only contain'],
  ])('rejects %p, naming the variables', (env, message) => {
    expect(problems(env).join('\n')).toContain(message);
  });

  it('reports every problem at once and never echoes a password', () => {
    const found = problems({
      REDIS_URL: 'redis://:url-secret@h:1',
      REDIS_CLUSTER_NODES: 'nope',
      REDIS_SENTINEL_PASSWORD: 'sentinel-secret',
      REDIS_TLS: 'true',
    });
    expect(found.length).toBeGreaterThanOrEqual(4);
    expect(found.join('\n')).not.toMatch(/url-secret|sentinel-secret/);
  });

  it.each([
    ['redis://:pw@h:6379/0', 'redis://***@h:6379/0'],
    ['rediss://user:p%40ss@h:6380', 'rediss://***@h:6380'],
    ['redis://h:6379', 'redis://h:6379'],
  ])('masks the credentials of %p in logs', (url, masked) => {
    expect(maskRedisUrl(url)).toBe(masked);
  });
});
