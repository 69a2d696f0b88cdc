import { ChaosFigures, RecoveryFigure } from './figures';

const ms = (v: number | undefined) => (v === undefined ? '-' : `${Math.round(v)} ms`);
const recoveryText = (r: RecoveryFigure) =>
  r.orphans === 0 ? '- (no orphans)' : `${ms(r.p50Ms)} / ${ms(r.maxMs)} (n=${r.rerun})`;
const entries = (rec: Record<string, number>) =>
  Object.keys(rec).length === 0 ? '0' : Object.entries(rec).map(([k, v]) => `${v} ${k}`).join('; ');

type Row = [label: string, value: (f: ChaosFigures) => string | number];

/** The rows of the figure table, one column per run. */
function rows(leaseMs: number, windowMs: number): Row[] {
  return [
    ['duration (total / submit / drain)', (f) => `${f.durationS.toFixed(0)} s / ${f.submitS.toFixed(0)} s / ${f.drainS.toFixed(1)} s`],
    ['tasks submitted', (f) => f.submitted],
    ['accepted (201)', (f) => f.accepted],
    ['not accepted (gave up)', (f) => f.notAccepted],
    ['POST answered 503 (Redis down; retried)', (f) => f.http503],
    ['  slowest 503', (f) => ms(f.max503LatencyMs)],
    ['POST connection errors / timeouts / other', (f) => `${f.httpConnectionErrors} / ${f.httpTimeouts} / ${entries(f.httpUnexpected)}`],
    ['completed', (f) => f.completed],
    ['failed', (f) => f.failed],
    ['LOST (accepted, missing or never terminal)', (f) => f.lost],
    ['  missing / never terminal (all lost)', (f) => `${f.lostMissing} / ${f.lostNotTerminal}`],
    ['  lost in the everysec window (exempt)', (f) =>
      f.fsync !== 'everysec' ? 'n/a (always)' : `${f.lostExemptEverysec}${f.rollbacksExempt > 0 ? ` (+${f.rollbacksExempt} terminal states undone)` : ''}`],
    ['ran more than once (attempts > 1)', (f) => f.ranMoreThanOnce],
    ['  by cause: kill/freeze/SIGTERM/Redis/other', (f) => {
      const c = f.rerunCauses;
      return `${c.kill} / ${c.freeze} / ${c.sigterm} / ${c.redis} / ${c.leaseExpiredOther + c.unexplained}`;
    }],
    ['  max attempts of one task', (f) => f.maxAttempts],
    ['in flight at SIGKILLs (kills done)', (f) => `${f.inFlightAtKills} (${f.killsDone})`],
    ['in flight at SIGSTOP freezes', (f) => f.inFlightAtFreezes],
    ['in flight at SIGTERMs', (f) => f.inFlightAtSigterms],
    ['active at Redis crashes', (f) => f.activeAtRedisCrashes],
    ['  = in flight at faults (~ bound on re-runs)', (f) => f.inFlightAtKills + f.inFlightAtFreezes + f.inFlightAtSigterms + f.activeAtRedisCrashes],
    ['expired leases recovered (recoverer log)', (f) => f.leaseRecoveries],
    [`kill -> orphan running again p50 / max`, (f) => recoveryText(f.killRecovery)],
    [`  within lease + 5 s (${leaseMs + 5000} ms)`, (f) => (f.killRecovery.maxMs === undefined ? '-' : f.killRecovery.maxMs <= leaseMs + 5000 ? 'yes' : 'NO')],
    ['  orphans ended without re-run / stuck / unfinished', (f) => `${f.killRecovery.terminalWithoutRerun} / ${f.killRecovery.stuck} / ${f.killRecovery.unfinished}`],
    ['  running (by log): re-run and finished / all', (f) => `${f.killRecovery.runningRerunAndFinished} / ${f.killRecovery.running}`],
    ['freeze -> task running again p50 / max', (f) => recoveryText(f.freezeRecovery)],
    ['frozen worker: late writes rejected / discarded', (f) => f.freezes.map((z) => `${z.lateWritesRejected} / ${z.discarded} (frozen ${z.frozenMs} ms)`).join('; ') || '-'],
    ['SIGTERM: exit, time, finished / requeued', (f) => f.sigterms.map((s) => `${s.exit}, ${s.durationMs} ms, ${s.finished} / ${s.requeued}`).join('; ') || '-'],
    ['  left active after graceful exit', (f) => f.sigterms.reduce((n, s) => n + s.leftActive, 0)],
    ['Redis restarts (down time each)', (f) => `${f.redisRestarts.length} (${f.redisRestarts.map((r) => ms(r.downMs)).join(', ') || '-'})`],
    [`acked in the last ${windowMs / 1000} s before a Redis crash`, (f) => f.redisRestarts.reduce((n, r) => n + r.ackedInWindow, 0)],
    ['  of those lost', (f) => f.redisRestarts.reduce((n, r) => n + r.lostInWindow, 0)],
    ['terminal tasks sampled / left terminal state', (f) => `${f.terminalSampled} / ${f.terminalLeft}`],
    ['second or stale terminal writes accepted', (f) => f.doubleTerminalWrites],
    ['wrong results', (f) => f.wrongResults],
    ['GET /tasks/{id} sampled / disagreeing', (f) => `${f.apiChecked} / ${f.apiMismatches}`],
    ['unacknowledged tasks in Redis (503/timeout)', (f) => f.unacknowledgedTasks],
    ['invariant checker: tasks / violations', (f) => (f.checker.ran ? `${f.checker.tasks} / ${f.checker.violations}` : `did not run`)],
    ['graceful stop at the end (exit 0)', (f) => `${f.gracefulStops.ok}/${f.gracefulStops.total}`],
    ['result', (f) => (f.pass ? 'PASS' : 'FAIL')],
  ];
}

/** A plain-text table with one column per run (everysec, always). */
export function formatTable(runs: ChaosFigures[], leaseMs: number, windowMs = 1000): string {
  const header = ['figure', ...runs.map((f) => `appendfsync ${f.fsync}`)];
  const body = rows(leaseMs, windowMs).map(([label, value]) => [label, ...runs.map((f) => String(value(f)))]);
  const widths = header.map((_, c) => Math.max(...[header, ...body].map((r) => r[c].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join(' | ').trimEnd();
  const out = [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...body.map(line)];
  return out.join('\n');
}

/** Details that do not fit the table: failures, samples of lost tasks and violations, error lines. */
export function formatDetails(f: ChaosFigures): string {
  const lines = [`[${f.fsync}] ${f.config}`];
  if (Object.keys(f.failedByError).length > 0) lines.push(`  failed by error: ${entries(f.failedByError)}`);
  if (f.lostSample.length > 0) lines.push(`  lost (first ${f.lostSample.length}): ${f.lostSample.join(', ')}`);
  if (f.checker.sample.length > 0) lines.push(`  violations (first ${f.checker.sample.length}):\n    ${f.checker.sample.join('\n    ')}`);
  if (f.rerunOther.length > 0) lines.push(`  re-runs no fault explains: ${f.rerunOther.join('; ')}`);
  if (f.killRecovery.slowest.length > 0) lines.push(`  slowest kill recoveries: ${f.killRecovery.slowest.join('; ')}`);
  if (f.checker.error) lines.push(`  checker: ${f.checker.error}`);
  if (Object.keys(f.workerErrorLines).length > 0) lines.push(`  worker error lines: ${entries(f.workerErrorLines)}`);
  if (f.faultsSkipped > 0) lines.push(`  faults skipped (no ready worker): ${f.faultsSkipped}`);
  if (!f.drained) lines.push('  the queue did not drain within the drain timeout');
  if (f.dir) lines.push(`  logs and AOF kept in ${f.dir}`);
  lines.push(f.pass ? '  PASS' : `  FAIL: ${f.failures.join('; ')}`);
  return lines.join('\n');
}
