import { ConfigValidationError, loadAppConfig } from './app-config';

/** The problems loadAppConfig reports for an environment (fails the test when it accepts it). */
function problemsOf(env: Record<string, string>): string[] {
  try {
    loadAppConfig(env);
  } catch (err) {
    if (err instanceof ConfigValidationError) return err.problems;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(env)}`);
}

const KEY_16 = 'abcdefghijklmnop';

describe('security configuration', () => {
  it('requires no key and allows no cross-origin caller by default', () => {
    expect(loadAppConfig({}).security).toEqual({ apiKeys: [], metricsApiKey: undefined, corsOrigins: [] });
  });

  it('API_KEYS: comma-separated keys of 16 to 256 printable characters, punctuation included', () => {
    const long = 'k'.repeat(256);
    const punct = '!"#$%&\'()*+-./:;<=>?@[\\]^_`{|}~';
    expect(loadAppConfig({ API_KEYS: `${KEY_16},${long},${punct}` }).security.apiKeys).toEqual([KEY_16, long, punct]);
    expect(loadAppConfig({ API_KEYS: '' }).security.apiKeys).toEqual([]);
  });

  it.each([
    ['15 characters', 'abcdefghijklmno', 'key 1 of 1'],
    ['257 characters', 'k'.repeat(257), 'key 1 of 1'],
    ['a space inside', 'abcdefgh ijklmnop', 'key 1 of 1'],
    ['a space around a key', `${KEY_16}, ${KEY_16}`, 'key 2 of 2'],
    ['an empty entry', `${KEY_16},,${KEY_16}`, 'key 2 of 3'],
    ['a trailing comma', `${KEY_16},`, 'key 2 of 2'],
    ['a tab', `abcdefgh\tijklmnop`, 'key 1 of 1'],
    ['a non-ASCII character', 'abcdefghijklmnoé', 'key 1 of 1'],
  ])('API_KEYS with %s is rejected, naming the key by position, never by value', (_what, value, position) => {
    const problems = problemsOf({ API_KEYS: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`API_KEYS: ${position} must be 16-256 printable characters without spaces`);
    for (const key of value.split(',').filter((k) => k.length > 3)) expect(problems[0]).not.toContain(key.trim());
  });

  it('METRICS_API_KEY follows the same rule and is not echoed', () => {
    expect(loadAppConfig({ METRICS_API_KEY: KEY_16 }).security.metricsApiKey).toBe(KEY_16);
    const problems = problemsOf({ METRICS_API_KEY: 'short-secret' });
    expect(problems).toEqual([expect.stringContaining('METRICS_API_KEY must be 16-256 printable characters')]);
    expect(problems[0]).not.toContain('short-secret');
  });

  it('CORS_ORIGINS: comma-separated origins, compared lower-case', () => {
    expect(loadAppConfig({ CORS_ORIGINS: 'https://App.Example.com, http://localhost:3000' }).security.corsOrigins).toEqual([
      'https://app.example.com',
      'http://localhost:3000',
    ]);
  });

  it.each(['*', 'app.example.com', 'https://app.example.com/', 'https://app.example.com/path', 'ftp://x.example.com'])(
    'CORS_ORIGINS=%p is not an origin',
    (value) => {
      expect(problemsOf({ CORS_ORIGINS: value })).toEqual([expect.stringContaining('CORS_ORIGINS')]);
    },
  );
});
