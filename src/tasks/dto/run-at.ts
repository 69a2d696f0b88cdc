import { SCHEDULE_MAX_AHEAD_MS } from '../../queue/task-limits';

/**
 * ISO 8601 date and time with a UTC offset, as RFC 3339 writes it (seconds and fraction optional):
 * `2030-01-31T12:00:00Z`, `2030-01-31T13:00:00.250+01:00`, `2030-01-31T12:00Z`.
 */
const RUN_AT = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

export const RUN_AT_FORMAT_MESSAGE = 'run_at must be an ISO 8601 date-time with a UTC offset, e.g. 2030-01-31T12:00:00Z';
export const RUN_AT_AHEAD_MESSAGE = `run_at must not be more than 365 days ahead`;
export const DELAY_AND_RUN_AT_MESSAGE = 'give either delay_ms or run_at, not both';

/** Epoch ms of a run_at text, or undefined when it is not one (also for impossible dates: Feb 30, 25:00). */
export function parseRunAt(text: string): number | undefined {
  const m = RUN_AT.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Math.floor(Number(`0.${m[7]}`) * 1000);
  const offsetMinutes = m[8] ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  if (!m[8] && (Number(m[10]) > 23 || Number(m[11]) > 59)) return undefined;
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  // setUTCFullYear rolls Feb 30 over into March: such a date does not exist.
  if (date.getUTCMonth() !== month - 1) return undefined;
  date.setUTCHours(hour, minute, second, ms);
  return date.getTime() - offsetMinutes * 60_000;
}

/**
 * What is wrong with a body's run_at (a string), or undefined: delay_ms given too, not a date-time with
 * an offset, or more than 365 days after `now`. A time in the past is fine: the task is due at once.
 */
export function runAtProblem(runAt: string, delayMs: unknown, now = Date.now()): string | undefined {
  if (delayMs !== undefined) return DELAY_AND_RUN_AT_MESSAGE;
  const at = parseRunAt(runAt);
  if (at === undefined) return RUN_AT_FORMAT_MESSAGE;
  if (at - now > SCHEDULE_MAX_AHEAD_MS) return RUN_AT_AHEAD_MESSAGE;
  return undefined;
}
