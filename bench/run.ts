/**
 * `npm run bench` (full, several minutes) / `npm run bench:quick` (under a minute): our queue vs
 * BullMQ (and NestJS + @nestjs/bullmq, and a constant-returning Nest app) on a private redis-server,
 * every figure next to its reference. Prints the tables and writes them to bench/RESULTS.md (full
 * run), bench/RESULTS-quick.md (--quick) or bench/RESULTS-partial.md (--only).
 *
 * Options:
 *   --quick             smaller sizes and fewer repetitions
 *   --only=a,b          sections: enqueue, drain, http, batch, pickup, e2e, scale, idle
 *   --no-build          measure dist/ as it is (default: compile src/ into a private directory,
 *                       bench/.build/<pid>, so concurrent builds or edits cannot change what is measured)
 *   --src               measure src/ through ts-node (no build)
 *   --out=FILE          where to write the report
 *   --cpu-prof=DIR      write CPU profiles of our worker and API processes into DIR
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { BenchContext, FULL, QUICK } from './lib/context';
import { buildPrivateCopy, removePrivateCopy } from './lib/build';
import { describeEnvironment, srcHash } from './lib/environment';
import { DIST_CODE, OurCode, SRC_CODE } from './lib/ours';
import { installSignalCleanup, killAllChildren } from './lib/processes';
import { BenchRedis } from './lib/redis-server';
import { Table } from './lib/report';
import {
  batchSection,
  closeClients,
  Clients,
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

const SECTIONS = ['enqueue', 'drain', 'http', 'batch', 'pickup', 'e2e', 'scale', 'idle'] as const;
type SectionName = (typeof SECTIONS)[number];

interface Args {
  quick: boolean;
  only?: SectionName[];
  source: 'build' | 'dist' | 'src';
  out: string;
  cpuProfDir?: string;
}

function parseArgs(argv: string[]): Args {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const known = ['--quick', '--no-build', '--src', '--only=', '--out=', '--cpu-prof='];
  for (const a of argv) {
    if (!known.some((k) => (k.endsWith('=') ? a.startsWith(k) : a === k))) throw new Error(`unknown option ${a}`);
  }
  const quick = argv.includes('--quick');
  const onlyText = value('only');
  const only = onlyText?.split(',').map((s) => s.trim()) as SectionName[] | undefined;
  for (const s of only ?? []) if (!SECTIONS.includes(s)) throw new Error(`unknown section ${s}; known: ${SECTIONS.join(', ')}`);
  const defaultOut = only ? 'RESULTS-partial.md' : quick ? 'RESULTS-quick.md' : 'RESULTS.md';
  const cpuProf = value('cpu-prof');
  return {
    quick,
    only,
    source: argv.includes('--src') ? 'src' : argv.includes('--no-build') ? 'dist' : 'build',
    out: resolve(value('out') ?? join(ROOT, 'bench', defaultOut)),
    cpuProfDir: cpuProf ? resolve(cpuProf) : undefined,
  };
}

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

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
  const started = new Date();
  const loadAtStart = loadavg();
  const command = commandLine();
  const sizes = args.quick ? QUICK : FULL;
  const hashBefore = srcHash();
  const code: OurCode = args.source === 'src' ? SRC_CODE : args.source === 'dist' ? DIST_CODE : buildPrivateCopy(log);
  const builtAt = new Date();
  if (args.cpuProfDir) mkdirSync(args.cpuProfDir, { recursive: true });

  const redis = await BenchRedis.start();
  let clients: Clients | undefined;
  installSignalCleanup(() => {
    void redis.stop();
    removePrivateCopy(code);
  });
  const tables: Table[] = [];
  const env = describeEnvironment(redis.version);
  const header = [
    '# Benchmark: taskqueue vs BullMQ',
    '',
    `- command: \`${command}\``,
    `- mode: ${args.quick ? 'quick' : 'full'}${args.only ? `, sections: ${args.only.join(', ')}` : ''}; our code measured: ${code.label}`,
    `- commit: ${env.commit}; src/ sha256 ${env.srcHash}${hashBefore !== env.srcHash ? ' (changed during the build!)' : ''}`,
    `- started: ${started.toISOString()}, build finished: ${builtAt.toISOString()}`,
    `- machine: ${env.machine}`,
    `- Node ${env.node}; ${env.versions}`,
    `- load average at start (1/5/15 min): ${loadAtStart.map((l) => l.toFixed(2)).join(' / ')}${loadAtStart[0] > 0.5 ? ' — other work was running on this machine' : ''}`,
    '- Every process (Redis, the service or reference processes, the load generators in the benchmark process) shares these cores. Medians over the repetitions, (min–max) when repeated; ratios are ratios of medians.',
  ];
  process.stdout.write(`${header.join('\n')}\n\n`);
  const want = (s: SectionName) => !args.only || args.only.includes(s);
  const ctx = new BenchContext(redis, sizes, code, log, args.cpuProfDir);
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
  } catch (err) {
    failure = err;
  } finally {
    if (clients) await closeClients(clients).catch(() => undefined);
    await redis.stop().catch(() => undefined);
    killAllChildren();
    removePrivateCopy(code);
  }
  const finished = new Date();
  const hashAfter = srcHash();
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
  const report = `${header.join('\n')}\n\n${tables.map((t) => t.render()).join('\n\n')}\n\n${footer.join('\n\n')}\n`;
  writeFileSync(args.out, report);
  process.stdout.write(`${footer.join('\n')}\nreport written to ${args.out}\n`);
  if (failure) process.exitCode = 1;
}

main().catch((err) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  killAllChildren();
  process.exit(1);
});
