import { createHmac } from 'node:crypto';

/** Headers every http task request carries; receivers read them (README "Verifying a request"). */
export const TASK_ID_HEADER = 'x-task-id';
export const TASK_ATTEMPT_HEADER = 'x-task-attempt';
export const TASK_TIMESTAMP_HEADER = 'x-task-timestamp';
export const TASK_SIGNATURE_HEADER = 'x-task-signature';

/**
 * `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">` with the shared secret: the timestamp (Unix
 * seconds, also sent as X-Task-Timestamp) is inside the MAC, so a receiver that rejects old
 * timestamps also rejects replays. `body` is exactly the bytes sent ("" when there is none).
 */
export function signature(secret: string, timestamp: number, body: Buffer | string): string {
  const mac = createHmac('sha256', secret);
  mac.update(`${timestamp}.`);
  mac.update(body);
  return `sha256=${mac.digest('hex')}`;
}

/** The X-Task-* headers of one request; no signature header without a secret. */
export function taskHeaders(
  meta: { taskId: string; attempt: number },
  timestamp: number,
  body: Buffer | string,
  secret: string | undefined,
): Record<string, string> {
  const headers: Record<string, string> = {
    [TASK_ID_HEADER]: meta.taskId,
    [TASK_ATTEMPT_HEADER]: String(meta.attempt),
    [TASK_TIMESTAMP_HEADER]: String(timestamp),
  };
  if (secret !== undefined) headers[TASK_SIGNATURE_HEADER] = signature(secret, timestamp, body);
  return headers;
}
