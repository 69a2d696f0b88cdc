/**
 * Parsing of the security variables (API_KEYS, METRICS_API_KEY, CORS_ORIGINS). Problems name the
 * variable and the position of a bad key, never the key itself: config errors are printed to stderr.
 */
export interface SecurityConfig {
  /** Keys accepted on every route but /health*; empty: no key required. */
  apiKeys: string[];
  /** When set, /metrics takes this key (and only this one) instead of API_KEYS. */
  metricsApiKey?: string;
  /** Origins allowed by CORS; empty: no CORS headers at all. */
  corsOrigins: string[];
}

/** 16-256 printable ASCII characters without spaces (and without commas, the separator). */
const API_KEY = /^[\x21-\x7e]{16,256}$/;
/** scheme://host[:port] exactly as a browser sends it in Origin: no path, no trailing slash. */
const ORIGIN = /^https?:\/\/[^\s/?#]+$/i;

export function parseSecurityConfig(
  raw: { API_KEYS?: string; METRICS_API_KEY?: string; CORS_ORIGINS?: string },
  problems: string[],
): SecurityConfig {
  const apiKeys = raw.API_KEYS === undefined ? [] : raw.API_KEYS.split(',');
  apiKeys.forEach((key, i) => {
    if (!API_KEY.test(key)) {
      problems.push(`API_KEYS: key ${i + 1} of ${apiKeys.length} must be 16-256 printable characters without spaces (length ${key.length})`);
    }
  });
  if (raw.METRICS_API_KEY !== undefined && !API_KEY.test(raw.METRICS_API_KEY)) {
    problems.push(`METRICS_API_KEY must be 16-256 printable characters without spaces (length ${raw.METRICS_API_KEY.length})`);
  }
  const corsOrigins = raw.CORS_ORIGINS === undefined ? [] : raw.CORS_ORIGINS.split(',').map((o) => o.trim());
  for (const origin of corsOrigins) {
    if (!ORIGIN.test(origin)) problems.push(`CORS_ORIGINS: "${origin}" is not an origin like https://app.example.com or http://localhost:3000`);
  }
  return { apiKeys, metricsApiKey: raw.METRICS_API_KEY, corsOrigins: corsOrigins.map((o) => o.toLowerCase()) };
}
