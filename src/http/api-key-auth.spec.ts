import type { Request } from 'express';
import { accessRules, ApiKeySet, presentedKeys } from './api-key-auth';

const KEY_A = 'key-a-0123456789abcdef';
const KEY_B = 'key-b-0123456789abcdef';
const METRICS_KEY = 'metrics-0123456789abcdef';

describe('ApiKeySet', () => {
  const keys = new ApiKeySet([KEY_A, KEY_B]);

  it('matches each configured key exactly', () => {
    expect(keys.matches(KEY_A)).toBe(true);
    expect(keys.matches(KEY_B)).toBe(true);
  });

  it.each(['', KEY_A.slice(0, -1), `${KEY_A} `, KEY_A.toUpperCase(), `${KEY_A},${KEY_B}`, 'x'.repeat(10_000)])('does not match %p', (candidate) => {
    expect(keys.matches(candidate)).toBe(false);
  });

  it('an empty set matches nothing', () => {
    expect(new ApiKeySet([]).matches('')).toBe(false);
  });
});

describe('accessRules', () => {
  const both = accessRules({ apiKeys: [KEY_A], metricsApiKey: METRICS_KEY, corsOrigins: [] });
  const apiOnly = accessRules({ apiKeys: [KEY_A], corsOrigins: [] });
  const metricsOnly = accessRules({ apiKeys: [], metricsApiKey: METRICS_KEY, corsOrigins: [] });
  const none = accessRules({ apiKeys: [], corsOrigins: [] });

  it.each(['/health', '/health/', '/health/live', '/health/ready', '/HEALTH/Live'])('%s is always open', (path) => {
    expect(both.keysFor(path)).toBeNull();
  });

  it.each(['/dashboard', '/dashboard/', '/dashboard/js/app.js', '/Dashboard/vendor/uPlot.min.css'])('%s (the page, no data) is always open', (path) => {
    expect(both.keysFor(path)).toBeNull();
  });

  it.each(['/tasks', '/tasks/abc/events', '/docs', '/docs/swagger-ui.css', '/docs-json', '/healthz', '/health-check', '/metricsx', '/dashboards', '/dashboard-json', '/'])(
    '%s takes API_KEYS',
    (path) => {
      expect(both.keysFor(path)?.matches(KEY_A)).toBe(true);
      expect(both.keysFor(path)?.matches(METRICS_KEY)).toBe(false);
      expect(metricsOnly.keysFor(path)).toBeNull();
    },
  );

  it.each(['/metrics', '/metrics/', '/Metrics', '/METRICS//'])('%s takes METRICS_API_KEY alone when it is set', (path) => {
    expect(both.keysFor(path)?.matches(METRICS_KEY)).toBe(true);
    expect(both.keysFor(path)?.matches(KEY_A)).toBe(false);
    expect(metricsOnly.keysFor(path)?.matches(METRICS_KEY)).toBe(true);
  });

  it('/metrics follows API_KEYS when METRICS_API_KEY is not set', () => {
    expect(apiOnly.keysFor('/metrics')?.matches(KEY_A)).toBe(true);
  });

  it('everything is open when no key is configured', () => {
    for (const path of ['/tasks', '/metrics', '/docs']) expect(none.keysFor(path)).toBeNull();
  });
});

describe('presentedKeys', () => {
  const req = (headers: Record<string, string>) => ({ headers }) as unknown as Request;

  it.each([
    [{ authorization: `Bearer ${KEY_A}` }, [KEY_A]],
    [{ authorization: `bearer ${KEY_A}` }, [KEY_A]],
    [{ authorization: `BEARER   ${KEY_A}` }, [KEY_A]],
    [{ 'x-api-key': KEY_B }, [KEY_B]],
    [{ authorization: `Bearer ${KEY_A}`, 'x-api-key': KEY_B }, [KEY_A, KEY_B]],
    [{ authorization: `Basic ${KEY_A}` }, []],
    [{ authorization: 'Bearer' }, []],
    [{ authorization: `Bearer ${KEY_A} extra` }, []],
    [{ 'x-api-key': '' }, []],
    [{}, []],
  ])('%p presents %p', (headers, expected) => {
    expect(presentedKeys(req(headers))).toEqual(expected);
  });
});
