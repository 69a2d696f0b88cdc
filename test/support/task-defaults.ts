/**
 * A task hash as the readers see it: a missing `retries` or `attempts` is 0 and a missing `updated_at`
 * is `created_at`. New tasks leave those fields out until they change (STORE_TASK_DEFAULTS); specs that
 * check counters, not the stored layout, read them through this.
 */
export function withTaskDefaults(h: Record<string, string>): Record<string, string> {
  if (Object.keys(h).length === 0) return h;
  const out = { ...h };
  out.retries ??= '0';
  out.attempts ??= '0';
  if (out.created_at !== undefined) out.updated_at ??= out.created_at;
  return out;
}
