/**
 * Waits for `work` for at most `ms` (a negative budget means none left). Resolves true when the work
 * settled in time, false when the deadline came first; never rejects. Used on the shutdown path,
 * where every await must have a deadline whatever Redis does.
 */
export async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  try {
    return await Promise.race([work.then(() => true, () => true), expired]);
  } finally {
    clearTimeout(timer);
  }
}
