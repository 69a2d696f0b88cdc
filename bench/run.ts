/**
 * `npm run bench` (full, ~15-20 minutes) / `npm run bench:quick` (a minute or two): our queue vs
 * BullMQ (and NestJS + @nestjs/bullmq, and a constant-returning Nest app) on a private redis-server,
 * every figure next to its reference. Prints the tables and writes them to bench/RESULTS.md (full
 * run), bench/RESULTS-quick.md (--quick) or bench/RESULTS-partial.md (--only).
 *
 * Run through ts-node (the npm scripts), this file only launches: it compiles our service
 * (tsc -p tsconfig.build.json) and the benchmark (bench/lib/build.ts) into bench/.build/<pid>, then
 * runs the compiled copy of itself with plain `node`, so the process that hosts the library-level
 * loops, like every process it starts, is compiled JavaScript without ts-node; the build is removed
 * at the end.
 *
 * Options:
 *   --quick             smaller sizes and fewer repetitions
 *   --only=a,b          sections: enqueue, drain, http, batch, pickup, e2e, scale, idle, cluster
 *   --no-build          measure dist/ as it is (default: compile src/ into the private directory, so
 *                       concurrent builds or edits cannot change what is measured)
 *   --generator=G       HTTP load generator: auto (wrk, installed with apt-get when missing, else
 *                       autocannon in its own process), wrk, or autocannon
 *   --reps=N            repetitions of every case (default 3; quick: 1-2)
 *   --drain-concurrency=a,b   concurrencies of the one-process drain cases (default 1,10,50,200)
 *   --out=FILE          where to write the report
 *   --cpu-prof=DIR      write CPU profiles of our worker and API processes into DIR
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { BenchContext, FULL, QUICK } from './lib/context';
import { BenchBuild, buildPrivateCopy, compiled, existingBuild, removePrivateCopy } from './lib/build';
import { describeEnvironment, srcHash } from './lib/environment';
import { GeneratorChoice } from './lib/load';
import { installSignalCleanup, killAllChildren } from './lib/processes';
import { BenchRedis } from './lib/redis-server';
import { Table } from './lib/report';
import {
  batchSection,
  closeClients,
  Clients,
  clusterSection,
  drainSection,
  endToEndSection,
  enqueueSection,
  httpSection,
  idleSection,
  openClients,
  pickupSection,
  scaleSection,
} from './lib/sections';
import { ROOT } from './lib/util';

const SECTIONS = ['enqueue', 'drain', 'http', 'batch', 'pickup', 'e2e', 'scale', 'idle', 'cluster'] as const;
type SectionName = (typeof SECTIONS)[number];

interface Args {
  quick: boolean;
  only?: SectionName[];
  /** Repetitions of every case (default: 3 full, fewer quick). */
  reps?: number;
  /** Concurrencies of the one-process drain cases (default: 1, 10, 50, 200 full; 1, 50 quick). */
  drainConcurrency?: number[];
  source: 'build' | 'dist';
  generator: GeneratorChoice;
  out: string;
  cpuProfDir?: string;
}

function parseArgs(argv: string[]): Args {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const known = ['--quick', '--no-build', '--only=', '--out=', '--cpu-prof=', '--generator=', '--reps=', '--drain-concurrency='];
  for (const a of argv) {
    if (!known.some((k) => (k.endsWith('=') ? a.startsWith(k) : a === k))) throw new Error(`unknown option ${a}`);
  }
  const quick = argv.includes('--quick');
  const onlyText = value('only');
  const only = onlyText?.split(',').map((s) => s.trim()) as SectionName[] | undefined;
  for (const s of only ?? []) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; known: ${SECTIONS.join(', ')}`);
  const defaultOut = only ? 'RESULTS-partial.md' : quick ? 'RESULTS-quick.md' : 'RESULTS.md';
  const cpuProf = value('cpu-prof');
  const generator = (value('generator') ?? 'auto') as GeneratorChoice;
  if (!['auto', 'wrk', 'autocannon'].includes(generator)) throw new Error(`unknown generator ${generator}; known: auto, wrk, autocannon`);
  const reps = value('reps') === undefined ? undefined : Number(value('reps'));
  if (reps !== undefined && !(Number.isInteger(reps) && reps > 0)) throw new Error('--reps must be a positive integer');
  const drainConcurrency = value('drain-concurrency')?.split(',').map(Number);
  if (drainConcurrency?.some((c) => !(Number.isInteger(c) && c > 0))) throw new Error('--drain-concurrency must be positive integers, comma-separated');
  return {
    quick,
    only,
    reps,
    drainConcurrency,
    source: argv.includes('--no-build') ? 'dist' : 'build',
    generator,
    out: resolve(value('out') ?? join(ROOT, 'bench', defaultOut)),
    cpuProfDir: cpuProf ? resolve(cpuProf) : undefined,
  };
}

/** How the run was started (the launcher passes it on to the compiled run). */
function commandLine(): string {
  const args = process.argv.slice(2).join(' ');
  const inner = `ts-node --transpile-only bench/run.ts${args ? ` ${args}` : ''}`;
  const npmEvent = process.env.npm_lifecycle_event;
  if (npmEvent === 'bench' || npmEvent === 'bench:quick') {
    const base = npmEvent === 'bench' ? FULL_SCRIPT_ARGS : QUICK_SCRIPT_ARGS;
    const extra = process.argv.slice(2).filter((a) => !base.includes(a));
    return `npm run ${npmEvent}${extra.length ? ` -- ${extra.join(' ')}` : ''}  (= ${inner})`;
  }
  return inner;
}
const FULL_SCRIPT_ARGS: string[] = [];
const QUICK_SCRIPT_ARGS = ['--quick'];

const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

/**
 * Under ts-node: compile, run the compiled copy of this file with plain node (same options), remove
 * the build, exit with its code. Signals are passed on; the compiled run exits if this process dies.
 */
async function launch(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const started = new Date();
  const hashBefore = srcHash();
  const build = await buildPrivateCopy(log, args.source);
  const script = compiled(build, 'bench/run.ts');
  const child = spawn(process.execPath, [script, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    env: {
      ...process.env,
      BENCH_BUILD_DIR: build.root,
      BENCH_OUR_CODE: args.source,
      BENCH_COMMAND: commandLine(),
      BENCH_STARTED: started.toISOString(),
      BENCH_SRC_HASH_BEFORE_BUILD: hashBefore,
    },
  });
  log(`running node ${relative(ROOT, script)}${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}`);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  const code = await new Promise<number>((done) => child.on('exit', (c, sig) => done(c ?? (sig ? 1 : 0))));
  removePrivateCopy(build);
  process.exit(code);
}

/** The benchmark itself, compiled, in plain node, on the build the launcher made. */
async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const buildDir = process.env.BENCH_BUILD_DIR;
  if (!buildDir) throw new Error('run the benchmark with `npm run bench` (or ts-node bench/run.ts), which compiles it first');
  // The launcher went away (even by SIGKILL): stop everything. The channel itself must not keep
  // this process alive once the run is over.
  process.on('disconnect', () => {
    killAllChildren();
    process.exit(1);
  });
  process.channel?.unref();
  const build: BenchBuild = existingBuild(buildDir, args.source);
  const started = new Date(process.env.BENCH_STARTED ?? Date.now());
  const loadAtStart = loadavg();
  const command = process.env.BENCH_COMMAND ?? commandLine();
  const base = args.quick ? QUICK : FULL;
  const sizes = {
    ...base,
    ...(args.reps ? { reps: args.reps, enqueueReps: args.reps, httpReps: args.reps } : {}),
    ...(args.drainConcurrency ? { drainConcurrency: args.drainConcurrency } : {}),
  };
  const hashBefore = process.env.BENCH_SRC_HASH_BEFORE_BUILD ?? srcHash();
  const code = build.code;
  const builtAt = new Date();
  if (args.cpuProfDir) mkdirSync(args.cpuProfDir, { recursive: true });

  const redis = await BenchRedis.start();
  let clients: Clients | undefined;
  installSignalCleanup(() => {
    void redis.stop();
  });
  const tables: Table[] = [];
  const env = describeEnvironment(redis.version);
  const header = [
    '# Benchmark: taskqueue vs BullMQ',
    '',
    `- command: \`${command}\``,
    `- measuring process: \`node ${relative(ROOT, compiled(build, 'bench/run.ts'))}${process.argv.length > 2 ? ` ${process.argv.slice(2).join(' ')}` : ''}\` (the benchmark compiled by tsc, plain node; it hosts the library-level enqueue loops, the pickup probes and the polling)`,
    `- mode: ${args.quick ? 'quick' : 'full'}${args.only ? `, sections: ${args.only.join(', ')}` : ''}; our code measured: ${code.label}`,
    `- commit: ${env.commit}; src/ sha256 ${env.srcHash}${hashBefore !== env.srcHash ? ' (changed during the build!)' : ''}`,
    `- started: ${started.toISOString()}, build finished: ${builtAt.toISOString()}`,
    `- machine: ${env.machine}`,
    `- Node ${env.node}; ${env.versions}`,
    `- load average at start (1/5/15 min): ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')}${loadAtStart[0] > 0.5 ? ' — other work was running on this machine' : ''}`,
    '- Every measured process runs as its users run it: plain `node` on compiled JavaScript (no ts-node), reference libraries with default options; command lines under "Processes" at the end. Every process (Redis, the service or reference processes, the HTTP load generator in its own process, the benchmark process) shares these cores. Medians over the repetitions, (min–max) when repeated; ratios are ratios of medians.',
  ];
  process.stdout.write(`${header.join('\n')}\n\n`);
  const want = (s: SectionName) => !args.only || args.only.includes(s);
  const ctx = new BenchContext(redis, sizes, build, log, args.cpuProfDir, args.generator);
  const run = async (name: SectionName, fn: () => Promise<Table[]>) => {
    if (!want(name)) return;
    const t0 = Date.now();
    log(`section ${name}: start`);
    const result = await fn();
    for (const t of result) {
      t.note(`(section took ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
      tables.push(t);
      process.stdout.write(`${t.render()}\n\n`);
    }
  };
  let failure: unknown;
  try {
    clients = await openClients(ctx);
    const c = clients;
    await run('enqueue', () => enqueueSection(ctx, c));
    await run('drain', () => drainSection(ctx, c));
    await run('http', () => httpSection(ctx));
    await run('batch', () => batchSection(ctx));
    await run('pickup', () => pickupSection(ctx, c));
    await run('e2e', () => endToEndSection(ctx, c));
    await run('scale', () => scaleSection(ctx, c));
    await closeClients(c);
    clients = undefined;
    // Last, with no other client of the benchmark connected.
    await run('idle', () => idleSection(ctx));
    // Worker processes and queues on a Redis Cluster of its own (and on the benchmark's redis-server).
    await run('cluster', () => clusterSection(ctx));
  } catch (err) {
    failure = err;
  } finally {
    if (clients) await closeClients(clients).catch(() => undefined);
    await redis.stop().catch(() => undefined);
    killAllChildren();
  }
  const finished = new Date();
  const hashAfter = srcHash();
  const processes = [
    '### Processes',
    '',
    'Exact command lines of the processes measured in this run (environment set for the process, then the command; paths relative to the repository; `bench/.build/<pid>` is the private build of this run, removed at the end). `main.js` and redis-server run under a small wrapper process (`diesWithParent` of `tools/dev/child-process.ts`) that only ends them with the benchmark. The wrk Lua scripts set the method, body and Content-Type (or pick a random path of the list for GET by id) and print the summary with wrk\'s own CPU time in done(); the autocannon process is `bench/procs/http-load.ts` compiled.',
    '',
    ...[redis.commandLine, ...ctx.commandLines, ...ctx.load.commandLines].filter((c): c is string => Boolean(c)).map((c) => `- \`${c}\``),
  ];
  const summary = ['### Summary', '', `- ${ctx.crosscheckVerdict?.text ?? 'cross-check: not run (the drain section at concurrency 50 runs it)'}`];
  const footer = [
    `Finished ${finished.toISOString()} (${((finished.getTime() - started.getTime()) / 1000).toFixed(0)} s); load average at the end: ${loadavg().map((l) => l.toFixed(2)).join(' / ')}.`,
    ...(hashAfter !== env.srcHash
      ? [
          args.source === 'build'
            ? `Note: src/ changed during the run (sha256 now ${hashAfter}); the figures are for the build made at the start (sha256 ${env.srcHash}).`
            : `WARNING: src/ changed during the run (sha256 ${env.srcHash} -> ${hashAfter}); processes started after the change may have loaded other code.`,
        ]
      : []),
    ...(failure ? [`FAILED: ${failure instanceof Error ? failure.stack : String(failure)}`] : []),
  ];
  const report = `${header.join('\n')}\n\n${summary.join('\n')}\n\n${tables.map((t) => t.render()).join('\n\n')}\n\n${processes.join('\n')}\n\n${footer.join('\n\n')}\n`;
  writeFileSync(args.out, report);
  process.stdout.write(`${summary.join('\n')}\n\n${processes.join('\n')}\n\n${footer.join('\n')}\nreport written to ${args.out}\n`);
  if (failure) process.exitCode = 1;
}

(__filename.endsWith('.ts') ? launch() : main()).catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  killAllChildren();
  process.exit(1);
});
