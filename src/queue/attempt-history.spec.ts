import { lastAttemptFromHash, parseAttemptEntry, storableWorkerId, utf8Prefix } from './attempt-history';

describe('attempt history entries', () => {
  it('parses a stored entry; the error is everything after the fifth bar, bars included', () => {
    expect(parseAttemptEntry('3|retry|100|200|host-1/2|boom | with | bars')).toEqual({
      attempt: 3,
      outcome: 'retry',
      startedAt: 100,
      endedAt: 200,
      workerId: 'host-1/2',
      error: 'boom | with | bars',
    });
  });

  it('empty fields are absent: an attempt that never started, without error', () => {
    expect(parseAttemptEntry('1|requeued||200||')).toEqual({
      attempt: 1,
      outcome: 'requeued',
      startedAt: undefined,
      endedAt: 200,
      workerId: undefined,
      error: undefined,
    });
  });

  it.each(['', '1|completed|1|2', '1|exploded|1|2|w|'])('rejects %j', (entry) => {
    expect(parseAttemptEntry(entry)).toBeUndefined();
  });

  it("reads the last ended attempt from the task hash; '=' stands for the task's error, cut at 1 KiB", () => {
    // Its start time and worker are the task's when `started` is that attempt.
    const base = { h_attempt: '2', h_ended_at: '20', started: '2', started_at: '10', worker: 'w/1' };
    expect(lastAttemptFromHash({ ...base, h_outcome: 'failed', h_error: '=', error: 'x'.repeat(2000) })).toEqual({
      attempt: 2,
      outcome: 'failed',
      startedAt: 10,
      endedAt: 20,
      workerId: 'w/1',
      error: 'x'.repeat(1024),
    });
    expect(lastAttemptFromHash({ ...base, h_outcome: 'completed', h_error: '', error: 'an earlier error' })?.error).toBeUndefined();
    // An attempt that never started: `started` names an earlier one.
    expect(lastAttemptFromHash({ ...base, started: '1', h_outcome: 'lost', h_error: 'lease expired before the task started' })).toMatchObject({
      startedAt: undefined,
      workerId: undefined,
      error: 'lease expired before the task started',
    });
    expect(lastAttemptFromHash({ status: 'pending' })).toBeUndefined();
    // Archived to the list when the next attempt started.
    expect(lastAttemptFromHash({ ...base, h_attempt: '', h_outcome: 'retry' })).toBeUndefined();
  });

  it('reads the attempt that completed a task from the task itself when no h_* field is stored', () => {
    const task = { status: 'completed', attempts: '3', updated_at: '50', started: '3', started_at: '40', worker: 'w/3', error: 'an earlier error' };
    expect(lastAttemptFromHash(task)).toEqual({ attempt: 3, outcome: 'completed', startedAt: 40, endedAt: 50, workerId: 'w/3', error: undefined });
    // Its handler never started (started names an earlier attempt).
    expect(lastAttemptFromHash({ ...task, started: '2' })).toMatchObject({ attempt: 3, startedAt: undefined, workerId: undefined });
    // Only for a completed task: a failed one without h_* holds no ended attempt.
    expect(lastAttemptFromHash({ ...task, status: 'failed' })).toBeUndefined();
  });

  it('cuts UTF-8 text at a byte budget without splitting a character', () => {
    expect(utf8Prefix('abc', 2)).toBe('ab');
    expect(utf8Prefix('a€', 3)).toBe('a'); // '€' is 3 bytes
    expect(utf8Prefix('a€', 4)).toBe('a€');
    expect(utf8Prefix('😀😀', 5)).toBe('😀');
    expect(utf8Prefix('short', 1024)).toBe('short');
  });

  it('keeps the field separator out of worker ids, and tabs (settle.lua separates its fields by them)', () => {
    expect(storableWorkerId('a|b/1')).toBe('a_b/1');
    expect(storableWorkerId('a\tb|c/1')).toBe('a_b_c/1');
    expect(storableWorkerId('host-1/2')).toBe('host-1/2');
    expect(storableWorkerId(undefined)).toBe('');
  });
});
