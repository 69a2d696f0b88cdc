import { join } from 'node:path';
import { BULL_PREFIX } from './bull';
import { OurCode } from './ours';
import { Child, spawnNode, whenHttpReady, whenReady } from './processes';
import { BenchRedis } from './redis-server';
import { freePort } from './util';

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

/** Shared state of a benchmark run: the private Redis, the options, and how to start each process. */
export class BenchContext {
  /** Drain throughput medians at concurrency 50 (tasks/s), used to set the 50% load of the pickup section. */
  readonly capacity: { ours?: number; bull?: number } = {};
  /** Redis bytes per task from the drain runs at concurrency 50. */
  readonly memory: { ours?: MemorySamples; bull?: MemorySamples } = {};
  private profSeq = 0;

  constructor(
    readonly redis: BenchRedis,
    readonly sizes: BenchSizes,
    readonly code: OurCode,
    readonly log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
    /** Write CPU profiles of our processes (worker and API) into this directory. */
    readonly cpuProfDir?: string,
  ) {}

  private profArgs(name: string): string[] {
    if (!this.cpuProfDir) return [];
    this.profSeq += 1;
    return ['--cpu-prof', `--cpu-prof-dir=${this.cpuProfDir}`, `--cpu-prof-name=${name}-${this.profSeq}-${process.pid}.cpuprofile`];
  }

  /** One worker process of ours (bench/procs/our-worker.ts) at WORKER_COUNT=concurrency; resolves when started. */
  async ourWorker(concurrency: number, env: Record<string, string> = {}): Promise<Child> {
    const child = spawnNode(`our-worker(c=${concurrency})`, join('bench', 'procs', 'our-worker.ts'), {
      tsNode: true,
      ipc: true,
      nodeArgs: this.profArgs(`our-worker-c${concurrency}`),
      env: {
        REDIS_URL: this.redis.url,
        WORKER_COUNT: String(concurrency),
        LOG_LEVEL: 'warn',
        BENCH_CODE_DIR: this.code.dir,
        ...env,
      },
    });
    await whenReady(child);
    return child;
  }

  /** One BullMQ Worker process at the given concurrency; resolves when connected. */
  async bullWorker(concurrency: number): Promise<Child> {
    const child = spawnNode(`bullmq-worker(c=${concurrency})`, join('bench', 'procs', 'bullmq-worker.ts'), {
      tsNode: true,
      ipc: true,
      env: { BENCH_REDIS_PORT: String(this.redis.port), BENCH_CONCURRENCY: String(concurrency) },
    });
    await whenReady(child);
    return child;
  }

  /** Our service as an API process (main.js of the measured build, APP_ROLE=api, LOG_LEVEL=warn). */
  async ourApi(): Promise<HttpApp> {
    const port = await freePort();
    const child = spawnNode('our-api', join(this.code.dir, this.code.ts ? 'main.ts' : 'main.js'), {
      tsNode: this.code.ts,
      nodeArgs: this.profArgs('our-api'),
      // Stopped with SIGTERM: no readiness delay before the listener closes (SHUTDOWN_READY_DELAY_MS).
      env: { REDIS_URL: this.redis.url, APP_ROLE: 'api', LOG_LEVEL: 'warn', SERVER_PORT: String(port), WORKER_COUNT: '0', SHUTDOWN_READY_DELAY_MS: '0' },
    });
    const url = `http://127.0.0.1:${port}`;
    await whenHttpReady(child, `${url}/health/ready`);
    return { name: 'ours', child, url };
  }

  /** The reference NestJS app: `bullmq` (POST /tasks -> queue.add) or `constant`. */
  async referenceApp(kind: 'bullmq' | 'constant'): Promise<HttpApp> {
    const port = await freePort();
    const child = spawnNode(`reference-${kind}`, join('bench', 'reference-app', 'main.ts'), {
      tsNode: true,
      ipc: true,
      args: [kind],
      env: { PORT: String(port), BENCH_REDIS_PORT: String(this.redis.port), BULL_PREFIX },
    });
    await whenReady(child);
    return { name: kind === 'bullmq' ? 'Nest+BullMQ' : 'Nest constant', child, url: `http://127.0.0.1:${port}` };
  }
}
