import { isIP } from 'node:net';

/** The http task type's settings (README "HTTP-target tasks"). */
export interface HttpTaskConfig {
  /** Lower-case host names, IP addresses and `*.suffix` patterns; empty: the http type is disabled. */
  allowedHosts: string[];
  /** HMAC-SHA256 key of X-Task-Signature; undefined: requests are not signed. */
  signingSecret?: string;
  /** Timeout of one call when the payload has no timeout_ms. */
  timeoutMs: number;
  /** Most response body bytes kept in the result; the rest is dropped and the result says so. */
  maxResponseBytes: number;
}

const LABEL = '[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?';
const HOST_NAME = new RegExp(`^(\\*\\.)?${LABEL}(\\.${LABEL})*$`);

/**
 * Parses HTTP_TASK_ALLOWED_HOSTS (comma-separated; blanks around entries ignored) and
 * HTTP_TASK_SIGNING_SECRET, pushing one problem per bad entry. The secret is never echoed.
 */
export function parseHttpTaskConfig(
  raw: { HTTP_TASK_ALLOWED_HOSTS?: string; HTTP_TASK_SIGNING_SECRET?: string; HTTP_TASK_TIMEOUT_MS: number; HTTP_TASK_MAX_RESPONSE_BYTES: number },
  problems: string[],
): HttpTaskConfig {
  const entries: string[] = [];
  for (const given of (raw.HTTP_TASK_ALLOWED_HOSTS ?? '').split(',').map((e) => e.trim())) {
    if (given === '') continue;
    // As URL hosts are compared: lower case, no trailing dot, IPv6 without brackets.
    const entry = given.toLowerCase().replace(/\.$/, '').replace(/^\[(.*)\]$/, '$1');
    if (isIP(entry) === 0 && !HOST_NAME.test(entry)) {
      problems.push(
        `HTTP_TASK_ALLOWED_HOSTS: "${given}" is not a host name, an IP address or a pattern like *.example.com (no scheme, port or path)`,
      );
    }
    entries.push(entry);
  }
  const secret = raw.HTTP_TASK_SIGNING_SECRET;
  if (secret !== undefined && (secret.length < 16 || secret.length > 1024)) {
    problems.push(`HTTP_TASK_SIGNING_SECRET must be 16..1024 characters (length ${secret.length})`);
  }
  return {
    allowedHosts: entries,
    signingSecret: secret,
    timeoutMs: raw.HTTP_TASK_TIMEOUT_MS,
    maxResponseBytes: raw.HTTP_TASK_MAX_RESPONSE_BYTES,
  };
}
