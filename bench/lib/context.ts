import { join } from 'node:path';
import { BULL_PREFIX } from './bull';
import { BenchBuild, compiled } from './build';
import { GeneratorChoice, LoadGenerator } from './load';
import { OurCode } from './ours';
import { Child, commandLine, runToEnd, spawnNode, spawnWrapped, whenHttpReady, whenReady } from './processes';
import { BenchRedis } from './redis-server';
import { freePort, ROOT } from './util';

/** Sizes of one benchmark run; `FULL` for `npm run bench`, `QUICK` for `npm run bench:quick`. */
export interface BenchSizes {
  /** Repetitions of each measured case (ours and the reference alternate within each). */
  reps: number;
  enqueueReps: number;
  httpReps: number;
  enqueueMs: number;
  drainTasks: number;
  drainConcurrency: number[];
  httpSeconds: number;
  httpConnections: number[];
  batchSeconds: number;
  batchConnections: number;
  pickupProbes: number;
  pickupGapMs: number;
  pickupLoadMs: number;
  e2eTasks: number;
  scaleLevels: number[];
  scaleSeconds: number;
  idleSeconds: number;
  idleSettleMs: number;
  /** Section 9: tasks drained per case, worker process counts, and WORKER_COUNT of each process. */
  clusterTasks: number;
  clusterProcesses: number[];
  clusterConcurrency: number;
}

export const FULL: BenchSizes = {
  reps: 3,
  enqueueReps: 3,
  httpReps: 3,
  enqueueMs: 3000,
  drainTasks: 50_000,
  drainConcurrency: [1, 10, 50, 200],
  httpSeconds: 6,
  httpConnections: [50, 200],
  batchSeconds: 5,
  batchConnections: 4,
  pickupProbes: 500,
  pickupGapMs: 10,
  pickupLoadMs: 5000,
  e2eTasks: 20_000,
  scaleLevels: [10_000, 100_000, 1_000_000],
  scaleSeconds: 3,
  idleSeconds: 20,
  idleSettleMs: 2000,
  clusterTasks: 30_000,
  clusterProcesses: [1, 2, 4],
  clusterConcurrency: 50,
};

export const QUICK: BenchSizes = {
  reps: 1,
  enqueueReps: 2,
  httpReps: 1,
  enqueueMs: 300,
  drainTasks: 3_000,
  drainConcurrency: [1, 50],
  httpSeconds: 1,
  httpConnections: [50, 200],
  batchSeconds: 1,
  batchConnections: 4,
  pickupProbes: 60,
  pickupGapMs: 3,
  pickupLoadMs: 700,
  e2eTasks: 1_000,
  scaleLevels: [10_000, 100_000],
  scaleSeconds: 0.5,
  idleSeconds: 1.5,
  idleSettleMs: 500,
  clusterTasks: 1_500,
  clusterProcesses: [1, 2],
  clusterConcurrency: 50,
};

export interface MemorySamples {
  pending: number[];
  completed: number[];
  pendingHash: number[];
  completedHash: number[];
}

export interface HttpApp {
  name: string;
  child: Child;
  url: string;
}

/** What bench/crosscheck/bullmq-drain.mjs prints with --json (one line per run). */
export interface CrosscheckResult {
  bullmq: string;
  n: number;
  concurrency: number;
  completed: number;
  failed: number;
  ms: number;
  perSec: number;
  wallMs: number;
  cpuUsPerJob: number;
}

export const CROSSCHECK_SCRIPT = join('bench', 'crosscheck', 'bullmq-drain.mjs');

/**
 * Shared state of a benchmark run: the private Redis, the build, the sizes, and how to start each
 * measured process. Every measured process is plain `node` on compiled JavaScript; every command line
 * is kept (`commandLines`) for the report. Ports are fixed per role for the run, so a role's command
 * line is the same every time it starts.
 */
export class BenchContext {
  /** Drain throughput medians at concurrency 50 (tasks/s), used to set the 50% load of the pickup section. */
  readonly capacity: { ours?: number; bull?: number } = {};
  /** Redis bytes per task from the drain runs at concurrency 50. */
  readonly memory: { ours?: MemorySamples; bull?: MemorySamples } = {};
  /** The drain section's cross-check of its BullMQ figure against bench/crosscheck/bullmq-drain.mjs. */
  crosscheckVerdict?: { ok: boolean; text: string };
  /** Command lines of the measured processes, in the order first started. */
  readonly commandLines = new Set<string>();
  readonly load: LoadGenerator;
  private profSeq = 0;
  private readonly ports = new Map<string, number>();

  constructor(
    readonly redis: BenchRedis,
    readonly sizes: BenchSizes,
    readonly build: BenchBuild,
    readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    /** Write CPU profiles of our processes (worker and API) into this directory. */
    readonly cpuProfDir?: string,
    generator: GeneratorChoice = 'auto',
  ) {
    this.load = new LoadGenerator(build, log, generator);
  }

  get code(): OurCode {
    return this.build.code;
  }

  /**
   * Write allocation profiles of our worker, our API and the reference apps into this directory
   * (bench/profile.ts --alloc): they preload bench/procs/alloc-sampler, which samples from SIGUSR2 on.
   */
  allocProfDir?: string;

  /** Node arguments and environment that profile a process (none unless a profile directory is set). */
  private profiling(name: string): { args: string[]; env: Record<string, string> } {
    if (!this.cpuProfDir && !this.allocProfDir) return { args: [], env: {} };
    this.profSeq += 1;
    const file = `${name}-${this.profSeq}-${process.pid}`;
    const args = this.cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${this.cpuProfDir}`, `--cpu-prof-name=${file}.cpuprofile`] : [];
    if (!this.allocProfDir) return { args, env: {} };
    return {
      args: [...args, '-r', compiled(this.build, 'bench/procs/alloc-sampler.ts')],
      env: { ALLOC_PROFILE_OUT: join(this.allocProfDir, `${file}.allocprofile`) },
    };
  }

  private async port(role: string): Promise<number> {
    let port = this.ports.get(role);
    if (port === undefined) {
      port = await freePort();
      this.ports.set(role, port);
    }
    return port;
  }

  private started(child: Child): Child {
    this.commandLines.add(child.commandLine);
    return child;
  }

  /**
   * One worker process of ours as users run it: `node main.js` of the measured build with
   * APP_ROLE=worker, WORKER_COUNT=concurrency, LOG_LEVEL=warn; resolves when /health/ready answers.
   * `index` tells apart processes running at the same time (each has its own port). `redisEnv` names
   * the Redis deployment (default: REDIS_URL of the benchmark's redis-server; REDIS_CLUSTER_NODES for
   * a cluster).
   */
  async ourWorker(concurrency: number, index = 0, redisEnv: Record<string, string> = { REDIS_URL: this.redis.url }): Promise<Child> {
    const port = await this.port(`our-worker-${index}`);
    const prof = this.profiling(`our-worker-c${concurrency}`);
    const child = this.started(
      await spawnWrapped(`our-worker(c=${concurrency})`, process.execPath, [...prof.args, join(this.code.dir, 'main.js')], {
        ...prof.env,
        ...redisEnv,
        APP_ROLE: 'worker',
        WORKER_COUNT: String(concurrency),
        LOG_LEVEL: 'warn',
        SERVER_PORT: String(port),
      }),
    );
    await whenHttpReady(child, `http://127.0.0.1:${port}/health/ready`);
    return child;
  }

  /**
   * Our worker for the pickup section: bench/procs/our-pickup-worker.ts (compiled) = the same
   * AppModule with APP_ROLE=worker in a Nest application context, plus a `pickup` handler that
   * returns its own pickup latency. Resolves when started.
   */
  async ourPickupWorker(concurrency: number): Promise<Child> {
    const prof = this.profiling(`our-pickup-worker-c${concurrency}`);
    const child = this.started(
      spawnNode(`our-pickup-worker(c=${concurrency})`, compiled(this.build, 'bench/procs/our-pickup-worker.ts'), {
        nodeArgs: prof.args,
        env: { ...prof.env, REDIS_URL: this.redis.url, WORKER_COUNT: String(concurrency), LOG_LEVEL: 'warn', BENCH_CODE_DIR: this.code.dir },
      }),
    );
    await whenReady(child);
    return child;
  }

  /** One BullMQ Worker process (bench/procs/bullmq-worker.ts, compiled; default options) at the given concurrency. */
  async bullWorker(concurrency: number): Promise<Child> {
    const child = this.started(
      spawnNode(`bullmq-worker(c=${concurrency})`, compiled(this.build, 'bench/procs/bullmq-worker.ts'), {
        env: { BENCH_REDIS_PORT: String(this.redis.port), BENCH_CONCURRENCY: String(concurrency) },
      }),
    );
    await whenReady(child);
    return child;
  }

  /** Our service as an API process: `node main.js` of the measured build, APP_ROLE=api, LOG_LEVEL=warn. */
  async ourApi(): Promise<HttpApp> {
    const port = await this.port('our-api');
    const prof = this.profiling('our-api');
    const child = this.started(
      await spawnWrapped('our-api', process.execPath, [...prof.args, join(this.code.dir, 'main.js')], {
        ...prof.env,
        REDIS_URL: this.redis.url,
        APP_ROLE: 'api',
        LOG_LEVEL: 'warn',
        // Stopped with SIGTERM: no readiness delay before the listener closes.
        SHUTDOWN_READY_DELAY_MS: '0',
        SERVER_PORT: String(port),
        WORKER_COUNT: '0',
      }),
    );
    const url = `http://127.0.0.1:${port}`;
    await whenHttpReady(child, `${url}/health/ready`);
    return { name: 'ours', child, url };
  }

  /**
   * The reference NestJS app (bench/reference-app, compiled): `bullmq` (POST /tasks -> queue.add),
   * `constant`, or `roundtrip` (one Redis round trip per request, nothing stored).
   */
  async referenceApp(kind: 'bullmq' | 'constant' | 'roundtrip'): Promise<HttpApp> {
    const port = await this.port(`reference-${kind}`);
    const prof = this.profiling(`reference-${kind}`);
    const child = this.started(
      spawnNode(`reference-${kind}`, compiled(this.build, 'bench/reference-app/main.ts'), {
        nodeArgs: prof.args,
        args: [kind],
        env: { ...prof.env, PORT: String(port), BENCH_REDIS_PORT: String(this.redis.port), BULL_PREFIX },
      }),
    );
    await whenReady(child);
    const names = { bullmq: 'Nest+BullMQ', constant: 'Nest constant', roundtrip: 'Nest + 1 round trip' };
    return { name: names[kind], child, url: `http://127.0.0.1:${port}` };
  }

  /** Runs bench/crosscheck/bullmq-drain.mjs once against the benchmark's Redis and returns its figure. */
  async runCrosscheck(n: number, concurrency: number): Promise<CrosscheckResult> {
    const args = [join(ROOT, CROSSCHECK_SCRIPT), `--redis=${this.redis.url}`, `--n=${n}`, `--concurrency=${concurrency}`, '--json'];
    this.commandLines.add(commandLine({}, 'node', args));
    const stdout = await runToEnd('crosscheck', process.execPath, args, {});
    const line = stdout.trim().split('\n').pop() ?? '';
    try {
      return JSON.parse(line) as CrosscheckResult;
    } catch {
      throw new Error(`crosscheck printed no result:\n${stdout}`);
    }
  }
}
