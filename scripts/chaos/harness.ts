import { spawn } from 'node:child_process';
import { setMaxListeners } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { QueueKeys } from '../../src/queue/queue-keys';
import { PROJECT_ROOT, snapshotDist } from './build';
import { ChaosFigures, RecoveryFigure, RedisRestartFigure } from './figures';
import { ChaosOptions, resolveOptions } from './options';
import { ChildHandle, ProcessSet } from '../../tools/dev/child-process';
import { RedisServer } from '../../tools/dev/redis-server';
import { ChaosAborted, chunks, freePort, percentile, seededRandom, sleep, within } from './util';
import { expandTaskHash } from '../../src/queue/compact-task';

const QUEUE_PREFIX = 'chaos';
const TERMINAL = new Set(['completed', 'failed']);
const INSTANT_TYPES = ['echo', 'sum', 'reverse'] as const;

interface Service {
  name: string;
  role: 'api' | 'worker';
  proc: ChildHandle;
  url: string;
  ready: boolean;
  readyAt?: Promise<boolean>;
  stopping: boolean;
  /** Tasks this process runs, from its log. */
  inflight: Map<string, Running>;
}

interface Running {
  attempt: number;
  type: string;
  /** When the attempt started (the worker's log time, same machine clock). */
  since: number;
}

interface Accepted {
  id: string;
  type: string;
  payload: string;
  sentAt: number;
  ackAt: number;
}

interface Orphan {
  id: string;
  attempt: number;
  from: number;
  kind: 'kill' | 'freeze';
  /** Running by the process's log when the fault hit (else held without a log line: prefetched, settling). */
  running: boolean;
}

interface TerminalWrite {
  attempt: number;
  kind: 'completed' | 'failed';
  service: string;
  time: number;
}

/** What the worker logs say; every task line carries task_id and attempt. */
class LogLedger {
  readonly terminalWrites = new Map<string, TerminalWrite[]>();
  private readonly unwritten = new Set<string>();
  readonly rejected: { service: string; id: string; time: number }[] = [];
  readonly discarded: { service: string; id: string; time: number; reason: string }[] = [];
  readonly requeued: { service: string; id: string; time: number }[] = [];
  readonly completedBy: { service: string; time: number }[] = [];
  readonly errorLines = new Map<string, number>();
  leaseRecoveries = 0;
  /** Recoverer lines: task id -> times its lease was found expired. */
  readonly leaseExpired = new Map<string, number[]>();

  onLine(service: Service, line: string): void {
    if (!line.startsWith('{')) return;
    let e: { msg?: string; task_id?: string; attempt?: number; time?: number; level?: number; reason?: string; type?: string };
    try {
      e = JSON.parse(line);
    } catch {
      return;
    }
    const msg = e.msg ?? '';
    const time = e.time ?? Date.now();
    if ((e.level ?? 0) >= 50) {
      const key = msg.startsWith('task failed permanently') ? msg : msg.slice(0, 80);
      this.errorLines.set(key, (this.errorLines.get(key) ?? 0) + 1);
    }
    if (msg.startsWith('lease expired')) {
      this.leaseRecoveries += 1;
      if (e.task_id) this.leaseExpired.set(e.task_id, [...(this.leaseExpired.get(e.task_id) ?? []), time]);
      return;
    }
    const id = e.task_id;
    const attempt = Number(e.attempt);
    if (!id || !Number.isFinite(attempt)) return;
    const key = `${service.name}|${id}|${attempt}`;
    if (msg === 'processing task') {
      service.inflight.set(id, { attempt, type: e.type ?? '', since: time });
      return;
    }
    const ends = () => {
      if (service.inflight.get(id)?.attempt === attempt) service.inflight.delete(id);
    };
    if (msg === 'task completed' || msg === 'task failed permanently') {
      ends();
      // Older builds logged the outcome even after a rejected write; a rejected attempt wrote nothing.
      if (this.unwritten.has(key)) return;
      const kind = msg === 'task completed' ? 'completed' : 'failed';
      const list = this.terminalWrites.get(id) ?? [];
      list.push({ attempt, kind, service: service.name, time });
      this.terminalWrites.set(id, list);
      if (kind === 'completed') this.completedBy.push({ service: service.name, time });
    } else if (msg === 'task failed, retrying') {
      ends();
    } else if (msg === 'task outcome discarded') {
      ends();
      this.discarded.push({ service: service.name, id, time, reason: e.reason ?? '' });
    } else if (msg.startsWith('task outcome rejected')) {
      ends();
      this.unwritten.add(key);
      this.rejected.push({ service: service.name, id, time });
    } else if (msg.startsWith('could not record task outcome')) {
      ends();
      this.unwritten.add(key);
    } else if (msg.startsWith('task returned to the queue')) {
      ends();
      this.requeued.push({ service: service.name, id, time });
    }
  }
}

function expectedResult(type: string, payload: string, slowTaskMs: number): string {
  switch (type) {
    case 'echo':
      return `echo: ${payload}`;
    case 'reverse':
      return Array.from(payload).reverse().join('');
    case 'sum':
      return (JSON.parse(payload) as number[]).reduce((a, b) => a + b, 0).toFixed(2);
    default:
      return `completed after ${Number((slowTaskMs / 1000).toFixed(3))} seconds`;
  }
}

/**
 * One chaos run: its own redis-server (AOF), one API process and `workers` worker processes started
 * from a snapshot of dist, `tasks` tasks submitted over HTTP while worker processes are SIGKILLed,
 * frozen and SIGTERMed and Redis is SIGKILLed and restarted; then the queue drains and every
 * accepted task is checked. Everything it starts is stopped, and its temp dir removed, before it
 * returns or throws.
 */
export async function runChaos(partial: Partial<ChaosOptions> = {}): Promise<ChaosFigures> {
  const run = new ChaosRun(resolveOptions(partial));
  return run.execute();
}

class ChaosRun {
  private readonly rnd: () => number;
  private readonly dir: string;
  private readonly registry = new ProcessSet();
  private readonly keys = new QueueKeys(QUEUE_PREFIX);
  private readonly ledger = new LogLedger();
  private readonly t0 = Date.now();
  private redis!: RedisServer;
  private monitor?: Redis;
  private distDir!: string;
  private api!: Service;
  private readonly workers: Service[] = [];
  private serviceSeq = 0;
  private finished = false;
  /** Aborted by the caller's signal (Ctrl-C) and when the run ends for any reason: every wait ends. */
  private readonly stop = new AbortController();

  private readonly accepted: Accepted[] = [];
  private readonly http = { s503: 0, max503: 0, conn: 0, timeouts: 0, unexpected: {} as Record<string, number>, gaveUp: 0 };
  private readonly orphans: Orphan[] = [];
  /** `id|attempt` of every orphan, so one lease is not counted for two faults. */
  private readonly claimed = new Set<string>();
  private readonly recovered = new Map<Orphan, { ms?: number; attempts?: number; outcome: 'rerun' | 'terminal' | 'missing' }>();
  private readonly samples = new Map<string, { status: string; completedAt: string; seenAt: number }>();
  private readonly restarts: RedisRestartFigure[] = [];
  private readonly freezes: ChaosFigures['freezes'] = [];
  private readonly sigterms: ChaosFigures['sigterms'] = [];
  private readonly inFlight = { kills: 0, freezes: 0, sigterms: 0, redis: 0 };
  private readonly lateWriteCounters: (() => void)[] = [];
  private killsDone = 0;
  private faultsSkipped = 0;
  private replacements = 0;
  private submitEnd = 0;

  constructor(private readonly o: ChaosOptions) {
    setMaxListeners(10_000, this.stop.signal);
    o.signal?.addEventListener('abort', () => this.stop.abort(), { once: true });
    this.rnd = seededRandom(o.seed);
    this.dir = mkdtempSync(join(tmpdir(), 'taskqueue-chaos-'));
  }

  private log(line: string): void {
    this.o.log(`[chaos ${this.o.fsync} +${((Date.now() - this.t0) / 1000).toFixed(1)}s] ${line}`);
  }

  private checkAborted(): void {
    if (this.stop.signal.aborted) throw new ChaosAborted();
  }

  async execute(): Promise<ChaosFigures> {
    const onExit = () => {
      this.registry.killAllSync();
      if (!this.o.keepDir) rmSync(this.dir, { recursive: true, force: true });
    };
    process.once('exit', onExit);
    try {
      return await this.main();
    } finally {
      this.finished = true;
      this.stop.abort();
      process.off('exit', onExit);
      this.monitor?.disconnect();
      await this.registry.killAll();
      if (!this.o.keepDir) rmSync(this.dir, { recursive: true, force: true });
    }
  }

  private async main(): Promise<ChaosFigures> {
    const o = this.o;
    this.log(`dir ${this.dir}, seed ${o.seed}`);
    this.distDir = snapshotDist(PROJECT_ROOT, this.dir, this.o.distDir);
    mkdirSync(join(this.dir, 'logs'));
    mkdirSync(join(this.dir, 'redis'));
    this.redis = await RedisServer.start({
      persistence: o.fsync,
      port: await freePort(),
      dir: join(this.dir, 'redis'),
      logFile: join(this.dir, 'redis', 'redis.log'),
      processes: this.registry,
    });
    this.monitor = new Redis(this.redis.url, {
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
      connectTimeout: 1000,
      commandTimeout: 10_000,
      retryStrategy: () => 100,
      lazyConnect: true,
    });
    this.monitor.on('error', () => undefined);
    await this.monitor.connect();

    this.api = await this.startService('api');
    for (let i = 0; i < o.workers; i += 1) await this.startService('worker');
    const allReady = await within(Promise.all([this.api, ...this.workers].map((s) => s.readyAt)), 60_000);
    if (!allReady || !allReady.every(Boolean)) throw new Error('the service processes did not become ready within 60 s');
    this.log(`redis :${this.redis.port} (appendfsync ${o.fsync}), api ${this.api.url}, ${o.workers} workers x ${o.concurrency}`);

    const submitStart = Date.now();
    const background = [this.trackRecoveries(), this.sampleTerminal()];
    await Promise.all([this.submitAll(), this.runFaults()]);
    const submitS = (this.submitEnd - submitStart) / 1000;
    this.log(`submitted: ${this.accepted.length} accepted of ${o.tasks}; faults done; draining`);

    const drainStart = Date.now();
    const drained = await this.drain();
    const drainS = (Date.now() - drainStart) / 1000;
    this.log(drained ? `drained in ${drainS.toFixed(1)} s` : `NOT drained after ${drainS.toFixed(1)} s`);
    // Let the last log lines (late writes of a frozen worker, recoverer lines) arrive.
    await sleep(Math.min(1500, o.leaseMs), this.stop.signal);
    this.finished = true;
    await Promise.all(background);

    const figures = await this.collect(submitS, drainS, drained);
    figures.gracefulStops = await this.stopServices();
    figures.checker = await this.runChecker();
    this.judge(figures);
    figures.durationS = (Date.now() - this.t0) / 1000;
    if (o.keepDir) figures.dir = this.dir;
    return figures;
  }

  // ---------------------------------------------------------------- processes

  private serviceEnv(role: 'api' | 'worker', port: number): NodeJS.ProcessEnv {
    const o = this.o;
    return {
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(PROJECT_ROOT, 'node_modules'),
      NODE_ENV: 'production',
      APP_ROLE: role,
      SERVER_PORT: String(port),
      REDIS_URL: this.redis.url,
      QUEUE_PREFIX,
      WORKER_COUNT: String(o.concurrency),
      TASK_LEASE_MS: String(o.leaseMs),
      SLOW_TASK_MS: String(o.slowTaskMs),
      SHUTDOWN_TIMEOUT_MS: String(o.shutdownTimeoutMs),
      // No readiness delay on SIGTERM: nothing routes by readiness here, and it would only slow exits.
      SHUTDOWN_READY_DELAY_MS: '0',
      RETRY_BASE_DELAY_MS: String(o.retryBaseDelayMs),
      RETRY_MAX_DELAY_MS: String(Math.max(o.retryBaseDelayMs, 2000)),
      TASK_RETENTION_S: '86400',
      // The completed tasks' layout under test: compact by default, COMPACT_COMPLETED_TASKS=false npm run
      // chaos runs the full layout.
      COMPACT_COMPLETED_TASKS: process.env.COMPACT_COMPLETED_TASKS ?? 'true',
      // Workers log every task line (the harness reads them); the API only warnings (one line per request otherwise).
      LOG_LEVEL: role === 'worker' ? 'info' : 'warn',
    };
  }

  private async startService(role: 'api' | 'worker'): Promise<Service> {
    this.serviceSeq += 1;
    const name = role === 'api' ? 'api' : `w${this.serviceSeq - 1}`;
    const port = await freePort();
    const service = {} as Service;
    const proc = this.registry.spawn(name, {
      command: process.execPath,
      args: [join(this.distDir, 'main.js')],
      cwd: PROJECT_ROOT,
      env: this.serviceEnv(role, port),
      logFile: join(this.dir, 'logs', `${name}.log`),
      onLine: role === 'worker' ? (line) => this.ledger.onLine(service, line) : undefined,
    });
    Object.assign(service, { name, role, proc, url: `http://127.0.0.1:${port}`, ready: false, stopping: false, inflight: new Map() });
    service.readyAt = this.waitReady(service);
    if (role === 'worker') this.workers.push(service);
    return service;
  }

  private async waitReady(s: Service): Promise<boolean> {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && s.proc.alive && !this.stop.signal?.aborted) {
      try {
        const res = await fetch(`${s.url}/health/ready`, { signal: AbortSignal.timeout(1000) });
        await res.arrayBuffer();
        if (res.ok) {
          s.ready = true;
          return true;
        }
      } catch {
        // not listening yet
      }
      await sleep(50);
    }
    return false;
  }

  private async replaceWorker(): Promise<void> {
    this.replacements += 1;
    await this.startService('worker');
  }

  /**
   * A live, ready worker, preferably one running a slow task with at least `minRemainingMs` to go
   * (so the fault hits work in flight): such a one if it shows up within 3 s, else one with any task
   * in flight within 4 s, else any ready one within 10 s.
   */
  private async pickWorker(minRemainingMs = 150): Promise<Service | undefined> {
    const start = Date.now();
    while (Date.now() - start < 10_000) {
      this.checkAborted();
      const now = Date.now();
      const waited = now - start;
      const ready = this.workers.filter((w) => w.ready && w.proc.alive && !w.stopping && !w.proc.frozen);
      const midSlow = ready.filter((w) =>
        [...w.inflight.values()].some((r) => r.type === 'slow' && now - r.since < this.o.slowTaskMs - minRemainingMs),
      );
      const busy = ready.filter((w) => w.inflight.size > 0);
      const pool = midSlow.length > 0 ? midSlow : waited > 3000 && busy.length > 0 ? busy : waited > 4000 ? ready : [];
      if (pool.length > 0) return pool[Math.floor(this.rnd() * pool.length)];
      await sleep(20, this.stop.signal);
    }
    return undefined;
  }

  // ---------------------------------------------------------------- redis reads

  private get client(): Redis {
    if (!this.monitor) throw new Error('no monitor connection');
    return this.monitor;
  }

  /** Retries a read while Redis is away (restarts), up to `timeoutMs`. */
  private async retrying<T>(what: string, fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (Date.now() > deadline) throw new Error(`${what}: ${String(err)}`);
        this.checkAborted();
        await sleep(200);
      }
    }
  }

  /**
   * `fields` of every id as the readers see them (a completed task unpacked from its compact form:
   * expandTaskHash), in pipelined chunks; null for a field the task lacks, all null for a missing task.
   */
  private async readTasks(ids: string[], fields: string[]): Promise<(string | null)[][]> {
    const out: (string | null)[][] = [];
    for (const part of chunks(ids, 2000)) {
      const replies = await this.retrying('read tasks', async () => {
        const pipe = this.client.pipeline();
        for (const id of part) pipe.hgetall(this.keys.task(id));
        const res = (await pipe.exec()) ?? [];
        return res.map(([err, value]) => {
          if (err) throw err;
          const h = expandTaskHash(value as Record<string, string>);
          return fields.map((f) => h[f] ?? null);
        });
      });
      out.push(...replies);
    }
    return out;
  }

  /** Of the tasks a process held (by its log), those Redis still shows as running that attempt. */
  private async stillHeld(held: Map<string, Running>): Promise<{ id: string; attempt: number }[]> {
    const entries = [...held];
    if (entries.length === 0) return [];
    const rows = await this.readTasks(entries.map(([id]) => id), ['status', 'attempts']);
    return entries
      .filter((_, i) => rows[i][0] === 'processing' && Number(rows[i][1]) === entries[i][1].attempt)
      .map(([id, r]) => ({ id, attempt: r.attempt }));
  }

  private addOrphans(list: { id: string; attempt: number }[], from: number, kind: Orphan['kind'], running: { id: string }[]): void {
    const byLog = new Set(running.map((r) => r.id));
    for (const o of list) {
      this.claimed.add(`${o.id}|${o.attempt}`);
      this.orphans.push({ id: o.id, attempt: o.attempt, from, kind, running: byLog.has(o.id) });
    }
  }

  /**
   * The tasks a process held when it was killed or frozen at `since`: those running by its log,
   * plus the ones it held without a log line (prefetched, or being settled), found as leases nobody
   * extended: after a heartbeat period every live worker has pushed its deadlines past since + lease.
   */
  private async withUnextended(running: { id: string; attempt: number }[], since: number): Promise<{ id: string; attempt: number }[]> {
    await sleep(Math.floor(this.o.leaseMs / 3) + 250, this.stop.signal);
    const ids = await this.retrying('active leases', () => this.client.zrangebyscore(this.keys.active, '-inf', since + this.o.leaseMs));
    const rows = await this.readTasks(ids, ['status', 'attempts']);
    const found = new Map(running.map((r) => [r.id, r]));
    ids.forEach((id, i) => {
      const attempt = Number(rows[i][1]);
      if (rows[i][0] === 'processing' && !this.claimed.has(`${id}|${attempt}`) && !found.has(id)) found.set(id, { id, attempt });
    });
    return [...found.values()];
  }

  // ---------------------------------------------------------------- submission

  private async submitAll(): Promise<void> {
    const o = this.o;
    const start = Date.now();
    const deadline = start + (o.tasks / o.rate) * 1000 * 2 + 60_000;
    let next = 0;
    const submitter = async () => {
      for (;;) {
        const i = next;
        next += 1;
        if (i >= o.tasks) return;
        const due = start + (i / o.rate) * 1000;
        if (due > Date.now()) await sleep(due - Date.now(), this.stop.signal);
        this.checkAborted();
        const slow = this.rnd() < o.slowFraction;
        const type = slow ? 'slow' : INSTANT_TYPES[i % INSTANT_TYPES.length];
        const payload = type === 'sum' ? `[${i}, 1.5, 2]` : type === 'reverse' ? `chaos-${i}-äß🙂` : `chaos-${i}`;
        await this.submitOne(type, payload, deadline);
      }
    };
    await Promise.all(Array.from({ length: o.submitConcurrency }, submitter));
    this.submitEnd = Date.now();
  }

  private async submitOne(type: string, payload: string, deadline: number): Promise<void> {
    const body = JSON.stringify({ type, payload, max_retry: this.o.maxRetry });
    for (let attempt = 0; ; attempt += 1) {
      if (Date.now() > deadline) {
        this.http.gaveUp += 1;
        return;
      }
      this.checkAborted();
      const sentAt = Date.now();
      try {
        const res = await fetch(`${this.api.url}/tasks`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(5000),
        });
        const ackAt = Date.now();
        if (res.status === 201) {
          const task = (await res.json()) as { id: string };
          this.accepted.push({ id: task.id, type, payload, sentAt, ackAt });
          return;
        }
        await res.arrayBuffer();
        if (res.status === 503) {
          this.http.s503 += 1;
          this.http.max503 = Math.max(this.http.max503, ackAt - sentAt);
        } else {
          this.http.unexpected[res.status] = (this.http.unexpected[res.status] ?? 0) + 1;
        }
      } catch (err) {
        if ((err as Error).name === 'TimeoutError') this.http.timeouts += 1;
        else this.http.conn += 1;
      }
      await sleep(Math.min(100 * (attempt + 1), 500), this.stop.signal);
    }
  }

  // ---------------------------------------------------------------- faults

  private schedule(): { at: number; kind: 'kill' | 'redis' | 'freeze' | 'sigterm' }[] {
    const o = this.o;
    const span = (o.tasks / o.rate) * 1000;
    const events: { at: number; kind: 'kill' | 'redis' | 'freeze' | 'sigterm' }[] = [];
    const spread = (kind: 'kill' | 'redis' | 'freeze' | 'sigterm', count: number, offset: number, jitter: number) => {
      for (let i = 0; i < count; i += 1) {
        const slot = (i + offset + (this.rnd() - 0.5) * jitter) / count;
        events.push({ at: Math.max(0.02, Math.min(0.95, slot)) * span, kind });
      }
    };
    spread('kill', o.kills, 0.5, 0.6);
    spread('redis', o.redisRestarts, 0.5, 0.2);
    spread('freeze', o.freezes, 0.3, 0.2);
    spread('sigterm', o.sigterms, 0.7, 0.2);
    return events.sort((a, b) => a.at - b.at);
  }

  private async runFaults(): Promise<void> {
    const start = Date.now();
    for (const event of this.schedule()) {
      const wait = start + event.at - Date.now();
      if (wait > 0) await sleep(wait, this.stop.signal);
      // Faults hit a pool at full strength: after a late one (a freeze lasts 5 s), the next ones do
      // not fire back to back while the replacements still boot.
      await this.poolAtStrength(10_000);
      this.checkAborted();
      if (event.kind === 'kill') await this.killWorker();
      else if (event.kind === 'redis') await this.restartRedis();
      else if (event.kind === 'freeze') await this.freezeWorker();
      else await this.terminateWorker();
    }
  }

  private async poolAtStrength(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !this.stop.signal.aborted) {
      const ready = this.workers.filter((w) => w.ready && w.proc.alive && !w.stopping && !w.proc.frozen).length;
      if (ready >= this.o.workers) return;
      await sleep(25, this.stop.signal);
    }
  }

  private async killWorker(): Promise<void> {
    const target = await this.pickWorker();
    if (!target) {
      this.faultsSkipped += 1;
      this.log('kill skipped: no ready worker');
      return;
    }
    const killAt = Date.now();
    target.proc.signal('SIGKILL');
    await within(target.proc.closed, 5000);
    const running = await this.stillHeld(target.inflight);
    const orphans = await this.withUnextended(running, killAt);
    this.killsDone += 1;
    this.inFlight.kills += orphans.length;
    this.addOrphans(orphans, killAt, 'kill', running);
    this.log(`SIGKILL #${this.killsDone} ${target.name} (pid ${target.proc.pid}): ${orphans.length} task(s) held, ${running.length} of them running`);
    await this.replaceWorker();
  }

  private async freezeWorker(): Promise<void> {
    const target = await this.pickWorker();
    if (!target) {
      this.faultsSkipped += 1;
      this.log('freeze skipped: no ready worker');
      return;
    }
    const frozenAt = Date.now();
    target.proc.frozen = true;
    target.proc.signal('SIGSTOP');
    await sleep(200); // lines already in the pipe arrive; the process itself writes nothing more
    const running = await this.stillHeld(target.inflight);
    const held = await this.withUnextended(running, frozenAt);
    this.inFlight.freezes += held.length;
    this.addOrphans(held, frozenAt, 'freeze', running);
    this.log(`SIGSTOP ${target.name} for ${this.o.freezeMs} ms: ${held.length} task(s) held, ${running.length} of them running`);
    await sleep(Math.max(0, frozenAt + this.o.freezeMs - Date.now()), this.stop.signal);
    target.proc.signal('SIGCONT');
    target.proc.frozen = false;
    const frozenMs = Date.now() - frozenAt;
    const figure = { inFlight: held.length, frozenMs, lateWritesRejected: 0, discarded: 0 };
    this.freezes.push(figure);
    // The late writes show up in its log once it runs again; counted at the end.
    const since = frozenAt;
    const name = target.name;
    this.lateWriteCounters.push(() => {
      figure.lateWritesRejected = this.ledger.rejected.filter((r) => r.service === name && r.time >= since).length;
      figure.discarded = this.ledger.discarded.filter((r) => r.service === name && r.time >= since).length;
    });
    this.log(`SIGCONT ${target.name} after ${frozenMs} ms`);
  }

  private async terminateWorker(): Promise<void> {
    // One whose slow task outlasts SHUTDOWN_TIMEOUT_MS, so the requeue path runs too.
    const target = await this.pickWorker(this.o.shutdownTimeoutMs + 100);
    if (!target) {
      this.faultsSkipped += 1;
      this.log('SIGTERM skipped: no ready worker');
      return;
    }
    target.stopping = true;
    const termAt = Date.now();
    const inFlight = target.inflight.size;
    target.proc.signal('SIGTERM');
    let exit = await within(target.proc.closed, this.o.shutdownTimeoutMs + 15_000);
    const durationMs = Date.now() - termAt;
    let exitText = exit ? (exit.signal ?? `exit ${exit.code}`) : 'timeout';
    if (!exit) {
      target.proc.signal('SIGKILL');
      exit = await within(target.proc.closed, 5000);
      exitText = 'no exit within shutdown timeout + 15 s (SIGKILLed)';
    }
    const finished = this.ledger.completedBy.filter((c) => c.service === target.name && c.time >= termAt).length;
    const requeued = this.ledger.requeued.filter((r) => r.service === target.name && r.time >= termAt).length;
    // After a graceful exit the process must hold nothing: anything still leased to it is stuck until its lease expires.
    const leftActive = (await this.stillHeld(target.inflight)).length;
    // Held = running (by its log) plus prefetched ones, which are handed back unstarted.
    const held = Math.max(inFlight, finished + requeued);
    this.inFlight.sigterms += held;
    this.sigterms.push({ inFlight: held, exit: exitText, durationMs, finished, requeued, leftActive });
    this.log(`SIGTERM ${target.name}: ${held} task(s) held, ${inFlight} running, ${exitText} after ${durationMs} ms, ${finished} finished, ${requeued} requeued`);
    await this.replaceWorker();
  }

  private async restartRedis(): Promise<void> {
    // Crash while tasks run (waits up to 3 s for one), so leases and outcome writes meet the outage.
    let activeAtCrash = -1;
    const waitUntil = Date.now() + 3000;
    while (Date.now() < waitUntil) {
      try {
        activeAtCrash = await this.client.zcard(this.keys.active);
      } catch {
        activeAtCrash = -1;
      }
      if (activeAtCrash > 0) break;
      await sleep(20, this.stop.signal);
    }
    const crashAt = Date.now();
    await this.redis.kill();
    this.log(`SIGKILL redis-server (${activeAtCrash} active)`);
    await sleep(this.o.redisDownMs, this.stop.signal);
    this.checkAborted();
    await this.redis.restart();
    const downMs = Date.now() - crashAt;
    this.inFlight.redis += Math.max(0, activeAtCrash);
    this.restarts.push({ crashAt, downMs, activeAtCrash, ackedInWindow: 0, lostInWindow: 0 });
    this.log(`redis-server restarted on the same AOF after ${downMs} ms`);
  }

  // ---------------------------------------------------------------- background observers

  /** Polls the orphaned tasks until each runs again: recovery time = started_at of the new attempt - fault time. */
  private async trackRecoveries(): Promise<void> {
    while (!this.finished) {
      const open = this.orphans.filter((o) => !this.recovered.has(o));
      if (open.length > 0) {
        try {
          const rows = await this.readTasks(open.map((o) => o.id), ['attempts', 'started_at', 'status']);
          open.forEach((o, i) => {
            const [attempts, startedAt, status] = rows[i];
            // Running again: a later attempt whose handler started after the fault. started_at is the
            // handler start (builds that set it when leasing: the lease), so a re-lease of a task
            // that has not started yet is not counted, nor its earlier start.
            if (attempts === null && status === null) this.recovered.set(o, { outcome: 'missing' });
            else if (Number(attempts) > o.attempt && Number(startedAt) >= o.from) {
              this.recovered.set(o, { outcome: 'rerun', ms: Number(startedAt) - o.from, attempts: Number(attempts) });
            }
            else if (TERMINAL.has(status ?? '')) this.recovered.set(o, { outcome: 'terminal' });
          });
        } catch {
          // Redis restarting: next tick
        }
      }
      await sleep(50);
    }
  }

  /** Remembers tasks seen terminal; at the end each must still be in the same terminal state. */
  private async sampleTerminal(): Promise<void> {
    while (!this.finished) {
      await sleep(250);
      if (this.accepted.length === 0 || this.samples.size >= 5000) continue;
      const ids = Array.from({ length: 40 }, () => this.accepted[Math.floor(Math.random() * this.accepted.length)].id);
      try {
        // updated_at: a finished task's finish time (it stores no completed_at field any more).
        const rows = await this.readTasks(ids, ['status', 'updated_at']);
        ids.forEach((id, i) => {
          const [status, completedAt] = rows[i];
          if (status && TERMINAL.has(status) && !this.samples.has(id)) {
            this.samples.set(id, { status, completedAt: completedAt ?? '', seenAt: Date.now() });
          }
        });
      } catch {
        // Redis restarting
      }
    }
  }

  // ---------------------------------------------------------------- end of the run

  private async drain(): Promise<boolean> {
    const deadline = Date.now() + this.o.drainTimeoutMs;
    const ids = this.accepted.map((a) => a.id);
    let lastLog = Date.now();
    while (Date.now() < deadline) {
      this.checkAborted();
      const rows = await this.readTasks(ids, ['status']);
      const open = rows.filter(([s]) => s !== null && !TERMINAL.has(s)).length;
      const [queued, active] = await this.retrying('zcard', () =>
        Promise.all([this.client.zcard(this.keys.queue), this.client.zcard(this.keys.active)]),
      );
      if (open === 0 && queued === 0 && active === 0) return true;
      if (Date.now() - lastLog > 5000) {
        lastLog = Date.now();
        this.log(`draining: ${open} accepted tasks not terminal, queue ${queued}, active ${active}`);
      }
      await sleep(300, this.stop.signal);
    }
    return false;
  }

  private async collect(submitS: number, drainS: number, drained: boolean): Promise<ChaosFigures> {
    const o = this.o;
    const ids = this.accepted.map((a) => a.id);
    const rows = await this.readTasks(ids, ['status', 'attempts', 'result', 'error']);
    let completed = 0;
    let failed = 0;
    let ranMoreThanOnce = 0;
    const rerunIds: string[] = [];
    let maxAttempts = 0;
    let wrongResults = 0;
    const failedByError: Record<string, number> = {};
    const lostMissing: string[] = [];
    const lostNotTerminal: string[] = [];
    const finalAttempts = new Map<string, number>();
    this.accepted.forEach((a, i) => {
      const [status, attemptsText, result, error] = rows[i];
      if (status === null) {
        lostMissing.push(a.id);
        return;
      }
      const attempts = Number(attemptsText ?? 0);
      finalAttempts.set(a.id, attempts);
      maxAttempts = Math.max(maxAttempts, attempts);
      if (attempts > 1) {
        ranMoreThanOnce += 1;
        rerunIds.push(a.id);
      }
      if (status === 'completed') {
        completed += 1;
        if (result !== expectedResult(a.type, a.payload, o.slowTaskMs)) wrongResults += 1;
      } else if (status === 'failed') {
        failed += 1;
        const key = (error ?? '').slice(0, 60);
        failedByError[key] = (failedByError[key] ?? 0) + 1;
      } else {
        lostNotTerminal.push(`${a.id} (${status}, attempts ${attempts})`);
      }
    });
    const lostIds = new Set([...lostMissing, ...lostNotTerminal.map((l) => l.split(' ')[0])]);

    // Lost tasks acknowledged in the window before a Redis crash: the everysec window.
    const exempt = new Set<string>();
    for (const r of this.restarts) {
      const inWindow = this.accepted.filter((a) => a.sentAt <= r.crashAt && a.ackAt >= r.crashAt - o.windowMs);
      r.ackedInWindow = inWindow.length;
      const lost = inWindow.filter((a) => lostIds.has(a.id));
      r.lostInWindow = lost.length;
      if (o.fsync === 'everysec') for (const a of lost) exempt.add(a.id);
    }

    // Terminal states are final: every task once seen terminal is still in that state, with the same finish time.
    // Under everysec, a write in the window before a Redis crash may be rolled back: such a task can
    // come back from a terminal state and run again. Reported, not counted (like the lost ones).
    const inEverysecWindow = (t: number) =>
      o.fsync === 'everysec' && this.restarts.some((r) => t >= r.crashAt - o.windowMs && t <= r.crashAt);
    let rollbacksExempt = 0;
    const sampled = [...this.samples];
    const again = await this.readTasks(sampled.map(([id]) => id), ['status', 'updated_at']);
    let terminalLeft = 0;
    sampled.forEach(([, s], i) => {
      if (again[i][0] === s.status && (again[i][1] ?? '') === s.completedAt) return;
      if (inEverysecWindow(s.seenAt)) rollbacksExempt += 1;
      else terminalLeft += 1;
    });

    // One terminal write per task, by its last attempt (fencing rejects every other).
    let doubleTerminalWrites = 0;
    for (const [id, writes] of this.ledger.terminalWrites) {
      const attempts = finalAttempts.get(id);
      if (attempts === undefined) continue; // not an accepted task (unacknowledged), or lost
      if (writes.length === 1 && writes[0].attempt === attempts) continue;
      if (writes.length > 1 && inEverysecWindow(writes[0].time)) rollbacksExempt += 1;
      else doubleTerminalWrites += 1;
    }

    for (const count of this.lateWriteCounters) count();
    const orphanRows = await this.readTasks(this.orphans.map((x) => x.id), ['status']);
    const finished = new Set(this.orphans.filter((_, i) => TERMINAL.has(orphanRows[i][0] ?? '')));
    const recovery = (kind: 'kill' | 'freeze'): RecoveryFigure => {
      const list = this.orphans.filter((x) => x.kind === kind);
      const times = list.map((x) => this.recovered.get(x)).filter((r) => r?.outcome === 'rerun').map((r) => r?.ms ?? 0);
      const running = list.filter((x) => x.running);
      return {
        orphans: list.length,
        rerun: times.length,
        p50Ms: percentile(times, 50),
        maxMs: times.length > 0 ? Math.max(...times) : undefined,
        terminalWithoutRerun: list.filter((x) => this.recovered.get(x)?.outcome === 'terminal').length,
        stuck: list.filter((x) => !this.recovered.has(x) || this.recovered.get(x)?.outcome === 'missing').length,
        unfinished: list.filter((x) => !finished.has(x)).length,
        running: running.length,
        runningRerunAndFinished: running.filter((x) => this.recovered.get(x)?.outcome === 'rerun' && finished.has(x)).length,
        slowest: list
          .filter((x) => this.recovered.get(x)?.outcome === 'rerun')
          .sort((a, b) => (this.recovered.get(b)?.ms ?? 0) - (this.recovered.get(a)?.ms ?? 0))
          .slice(0, 3)
          .map((x) => {
            const r = this.recovered.get(x);
            return `${x.id} ${r?.ms} ms (attempt ${x.attempt} -> ${r?.attempts}, fault at +${((x.from - this.t0) / 1000).toFixed(1)}s)`;
          }),
      };
    };

    const total = await this.retrying('count tasks', async () => {
      let cursor = '0';
      let n = 0;
      do {
        const [next, keys] = await this.client.scan(cursor, 'MATCH', `${this.keys.base}t:*`, 'COUNT', 1000);
        cursor = next;
        // Task hashes only: `t:<id>:h` is the attempt history of a task that ran more than once.
        n += keys.filter((k) => !k.endsWith(':h')).length;
      } while (cursor !== '0');
      return n;
    });

    // Why each task ran more than once: the first fault that explains it.
    const orphanKind = new Map(this.orphans.map((x) => [x.id, x.kind]));
    const requeuedIds = new Set(this.ledger.requeued.map((r) => r.id));
    const afterOutage = (t: number) => this.restarts.some((r) => t >= r.crashAt && t <= r.crashAt + r.downMs + o.leaseMs + 3000);
    const rerunCauses = { kill: 0, freeze: 0, sigterm: 0, redis: 0, leaseExpiredOther: 0, unexplained: 0 };
    const rerunOther: string[] = [];
    for (const id of rerunIds) {
      const kind = orphanKind.get(id);
      const expired = this.ledger.leaseExpired.get(id) ?? [];
      if (kind) rerunCauses[kind] += 1;
      else if (requeuedIds.has(id)) rerunCauses.sigterm += 1;
      else if (expired.some(afterOutage)) rerunCauses.redis += 1;
      else if (expired.length > 0) {
        rerunCauses.leaseExpiredOther += 1;
        rerunOther.push(`${id} (lease expired at +${((expired[0] - this.t0) / 1000).toFixed(1)}s)`);
      } else {
        rerunCauses.unexplained += 1;
        rerunOther.push(`${id} (no trace)`);
      }
    }

    // The API's view agrees: GET /tasks/{id} of a sample of accepted tasks shows the stored status.
    let apiChecked = 0;
    let apiMismatches = 0;
    const statusOf = new Map(this.accepted.map((a, i) => [a.id, rows[i][0]]));
    for (const a of this.accepted.filter(() => Math.random() < 300 / Math.max(1, this.accepted.length)).slice(0, 300)) {
      apiChecked += 1;
      try {
        const res = await fetch(`${this.api.url}/tasks/${a.id}`, { signal: AbortSignal.timeout(5000) });
        const body = (await res.json()) as { status?: string };
        const expected = statusOf.get(a.id);
        if (expected === null ? res.status !== 404 : res.status !== 200 || body.status !== expected) apiMismatches += 1;
      } catch {
        apiMismatches += 1;
      }
    }

    const lostTotal = lostIds.size;
    return {
      fsync: o.fsync,
      seed: o.seed,
      config:
        `tasks=${o.tasks} kills=${o.kills} redis-restarts=${o.redisRestarts} freezes=${o.freezes} sigterms=${o.sigterms} ` +
        `workers=${o.workers}x${o.concurrency} lease=${o.leaseMs}ms slow=${o.slowTaskMs}ms(${Math.round(o.slowFraction * 100)}%) ` +
        `rate=${o.rate}/s seed=${o.seed}`,
      durationS: 0,
      submitS,
      drainS,
      drained,
      submitted: o.tasks,
      accepted: this.accepted.length,
      notAccepted: this.http.gaveUp,
      http503: this.http.s503,
      max503LatencyMs: this.http.s503 > 0 ? this.http.max503 : undefined,
      httpConnectionErrors: this.http.conn,
      httpTimeouts: this.http.timeouts,
      httpUnexpected: this.http.unexpected,
      completed,
      failed,
      failedByError,
      lostTotal,
      lostMissing: lostMissing.length,
      lostNotTerminal: lostNotTerminal.length,
      lostExemptEverysec: exempt.size,
      lost: lostTotal - exempt.size,
      lostSample: [...lostMissing.map((id) => `${id} (missing)`), ...lostNotTerminal].slice(0, 10),
      ranMoreThanOnce,
      rerunCauses,
      rerunOther: rerunOther.slice(0, 5),
      maxAttempts,
      inFlightAtKills: this.inFlight.kills,
      inFlightAtFreezes: this.inFlight.freezes,
      inFlightAtSigterms: this.inFlight.sigterms,
      activeAtRedisCrashes: this.inFlight.redis,
      leaseRecoveries: this.ledger.leaseRecoveries,
      killsDone: this.killsDone,
      faultsSkipped: this.faultsSkipped,
      replacementsStarted: this.replacements,
      killRecovery: recovery('kill'),
      freezeRecovery: recovery('freeze'),
      freezes: this.freezes,
      sigterms: this.sigterms,
      redisRestarts: this.restarts,
      terminalSampled: sampled.length,
      terminalLeft,
      doubleTerminalWrites,
      rollbacksExempt,
      wrongResults,
      apiChecked,
      apiMismatches,
      unacknowledgedTasks: Math.max(0, total - (this.accepted.length - lostMissing.length)),
      workerErrorLines: Object.fromEntries(this.ledger.errorLines),
      checker: { ran: false, tasks: 0, violations: 0, sample: [] },
      gracefulStops: { ok: 0, total: 0 },
      pass: false,
      failures: [],
    };
  }

  /** SIGTERM to every service still running; each must exit 0. */
  private async stopServices(): Promise<{ ok: number; total: number }> {
    const live = [this.api, ...this.workers].filter((s) => s.proc.alive);
    for (const s of live) {
      s.stopping = true;
      s.proc.signal('SIGTERM');
    }
    const exits = await Promise.all(live.map((s) => within(s.proc.closed, this.o.shutdownTimeoutMs + 15_000)));
    return { ok: exits.filter((e) => e?.code === 0).length, total: live.length };
  }

  /** The invariant checker of the build under test (dist/cli/check-queue.js), on the quiet queue. */
  private async runChecker(): Promise<ChaosFigures['checker']> {
    const child = spawn(process.execPath, [join(this.distDir, 'cli', 'check-queue.js')], {
      cwd: PROJECT_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        NODE_PATH: join(PROJECT_ROOT, 'node_modules'),
        REDIS_URL: this.redis.url,
        QUEUE_PREFIX,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await within(new Promise<number | null>((resolve) => child.once('close', resolve)), 120_000);
    if (code === undefined) {
      child.kill('SIGKILL');
      return { ran: false, tasks: 0, violations: 0, sample: [], error: 'checker timed out after 120 s' };
    }
    try {
      const report = JSON.parse(out) as { tasks: number; violations: { kind: string; id: string; detail: string }[] };
      return {
        ran: true,
        tasks: report.tasks,
        violations: report.violations.length,
        sample: report.violations.slice(0, 10).map((v) => `${v.kind} ${v.id}: ${v.detail}`),
      };
    } catch {
      return { ran: false, tasks: 0, violations: 0, sample: [], error: `checker exit ${code}: ${err.slice(0, 500) || out.slice(0, 500)}` };
    }
  }

  private judge(f: ChaosFigures): void {
    const failures: string[] = [];
    if (f.lost > 0) failures.push(`${f.lost} accepted task(s) lost`);
    if (!f.checker.ran) failures.push(`invariant checker did not run: ${f.checker.error ?? ''}`);
    if (f.checker.violations > 0) failures.push(`${f.checker.violations} invariant violation(s)`);
    if (f.terminalLeft > 0) failures.push(`${f.terminalLeft} task(s) left a terminal state`);
    if (f.doubleTerminalWrites > 0) failures.push(`${f.doubleTerminalWrites} task(s) with a second or stale terminal write`);
    if (f.wrongResults > 0) failures.push(`${f.wrongResults} completed task(s) with a wrong result`);
    if (f.apiMismatches > 0) failures.push(`GET /tasks/{id} disagreed with Redis for ${f.apiMismatches} task(s)`);
    f.failures = failures;
    f.pass = failures.length === 0;
  }
}
