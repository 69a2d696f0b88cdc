import { CronExpression, CronExpressionParser } from 'cron-parser';

/** Longest cron expression accepted. */
export const CRON_MAX_LENGTH = 256;
/** Time zone of a schedule that names none. */
export const DEFAULT_TIMEZONE = 'UTC';

const FIELDS = /^\S+(\s+\S+){4,5}$/;
const MACRO = /^@[a-z]+$/;

/**
 * Why `cron` is not an expression a schedule accepts, or undefined when it is: 5 fields (minute first)
 * or 6 (seconds first), or a predefined `@daily`-style macro, in cron-parser's syntax. cron-parser
 * itself would also take fewer fields (it pads them with `*`), which reads too much into a typo.
 */
export function cronProblem(cron: unknown): string | undefined {
  if (typeof cron !== 'string') return 'cron must be a string';
  const text = cron.trim();
  if (text.length === 0 || text.length > CRON_MAX_LENGTH) return `cron must be 1 to ${CRON_MAX_LENGTH} characters`;
  if (!MACRO.test(text) && !FIELDS.test(text)) {
    return 'cron must have 5 fields (minute hour day-of-month month day-of-week) or 6 (seconds first), e.g. "*/5 * * * *"';
  }
  try {
    CronExpressionParser.parse(text, { tz: DEFAULT_TIMEZONE, hashSeed: 'check', strict: false }).next();
  } catch (err) {
    return `cron is not valid: ${err instanceof Error ? err.message : String(err)}`;
  }
  return undefined;
}

/** Why `timezone` is not an IANA time zone name this runtime knows (e.g. Europe/Berlin, UTC), or undefined. */
export function timezoneProblem(timezone: unknown): string | undefined {
  if (typeof timezone !== 'string') return 'timezone must be a string';
  // Intl also takes offsets (+01:00) on some runtimes; a schedule wants a zone with its DST rules.
  if (!/^[A-Za-z][A-Za-z0-9_+/-]{0,63}$/.test(timezone)) return 'timezone must be an IANA time zone name, e.g. Europe/Berlin or UTC';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: timezone });
  } catch {
    return `timezone "${timezone}" is not a known IANA time zone name, e.g. Europe/Berlin or UTC`;
  }
  return undefined;
}

/**
 * A cron expression read in a time zone: the ticks of a schedule, in epoch ms. DST follows
 * cron-parser: a wall time skipped by the spring-forward change fires at the first instant after the
 * gap (02:30 on a day without 02:30 fires at 03:30), and one repeated by the fall-back change fires
 * once, in its first occurrence. `seed` fixes what `H` picks, so every process computes the same ticks.
 * Pure: the time is always passed in, never read.
 */
export class CronSchedule {
  constructor(
    readonly cron: string,
    readonly timezone: string,
    private readonly seed: string,
  ) {}

  /** The first tick strictly after `ms`; undefined when the expression has no tick left. */
  nextAfter(ms: number): number | undefined {
    return this.step(ms, (e) => e.next().getTime());
  }

  /** The last tick at or before `ms`; undefined when there is none. */
  latestAtOrBefore(ms: number): number | undefined {
    return this.step(ms + 1, (e) => e.prev().getTime());
  }

  private step(from: number, move: (e: CronExpression) => number): number | undefined {
    const expression = CronExpressionParser.parse(this.cron.trim(), { currentDate: new Date(from), tz: this.timezone, hashSeed: this.seed });
    try {
      return move(expression);
    } catch {
      return undefined;
    }
  }
}
