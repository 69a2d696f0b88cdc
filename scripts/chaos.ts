/**
 * `npm run chaos`: the fault harness. Starts its own redis-server (AOF) on a free loopback port, one
 * API process and several worker processes, submits tasks over HTTP while it kills, freezes and
 * SIGTERMs workers and crashes Redis, then checks every accepted task and runs the invariant
 * checker. Prints a figure table; exits 1 when an accepted task was lost (outside the documented
 * everysec window) or any invariant is broken, 2 when the run itself failed, 130 on Ctrl-C.
 *
 * Options (each also as an environment variable CHAOS_<NAME>, e.g. CHAOS_TASKS=2000):
 *   --tasks N (10000)  --kills K (20)  --redis-restarts R (2)  --freezes F (1)  --sigterms T (1)
 *   --workers W (3)  --concurrency C (8)  --fsync everysec|always|both (both)  --rate TASKS_PER_S (200)
 *   --lease-ms (2000)  --slow-task-ms (600)  --slow-fraction (0.05)  --shutdown-timeout-ms (300)
 *   --redis-down-ms (1000)  --freeze-ms (2 x lease + 1500)  --window-ms (1000)  --seed S  --keep
 *   --no-build  --dist DIR (run this build instead of dist/)  --json FILE  --quiet
 * COMPACT_COMPLETED_TASKS=false in the environment runs the service processes with the full layout of
 * completed tasks (the default is compact, README).
 */
import { writeFileSync } from 'node:fs';
import { ensureDist } from './chaos/build';
import { ChaosFigures } from './chaos/figures';
import { runChaos } from './chaos/harness';
import { ChaosOptions, DEFAULT_OPTIONS } from './chaos/options';
import { formatDetails, formatTable } from './chaos/report';
import { ChaosAborted } from './chaos/util';

const NUMERIC: Record<string, keyof ChaosOptions> = {
  tasks: 'tasks',
  kills: 'kills',
  'redis-restarts': 'redisRestarts',
  freezes: 'freezes',
  sigterms: 'sigterms',
  workers: 'workers',
  concurrency: 'concurrency',
  rate: 'rate',
  'submit-concurrency': 'submitConcurrency',
  'lease-ms': 'leaseMs',
  'slow-task-ms': 'slowTaskMs',
  'slow-fraction': 'slowFraction',
  'shutdown-timeout-ms': 'shutdownTimeoutMs',
  'retry-base-delay-ms': 'retryBaseDelayMs',
  'max-retry': 'maxRetry',
  'redis-down-ms': 'redisDownMs',
  'freeze-ms': 'freezeMs',
  'window-ms': 'windowMs',
  'drain-timeout-ms': 'drainTimeoutMs',
  seed: 'seed',
};
const FLAGS = ['keep', 'no-build', 'quiet', 'help'];
const STRINGS = ['fsync', 'json', 'dist'];

interface Cli {
  options: Partial<ChaosOptions>;
  fsync: ('everysec' | 'always')[];
  build: boolean;
  quiet: boolean;
  json?: string;
}

function usage(): string {
  const names = [...Object.keys(NUMERIC).map((n) => `--${n} N`), '--fsync everysec|always|both', '--dist DIR', '--json FILE', ...FLAGS.map((f) => `--${f}`)];
  return `usage: npm run chaos -- [${names.join('] [')}]\n(each option also as CHAOS_<NAME>, e.g. CHAOS_REDIS_RESTARTS=3)`;
}

function parse(argv: string[], env: NodeJS.ProcessEnv): Cli {
  const raw = new Map<string, string>();
  // The environment first; arguments win.
  for (const name of [...Object.keys(NUMERIC), ...FLAGS, ...STRINGS]) {
    const value = env[`CHAOS_${name.toUpperCase().replace(/-/g, '_')}`];
    if (value !== undefined && value !== '') raw.set(name, value);
  }
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new Error(`unexpected argument "${arg}"\n${usage()}`);
    const [name, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    let value = inline;
    if (FLAGS.includes(name)) {
      raw.set(name, value ?? 'true');
      continue;
    }
    if (!(name in NUMERIC) && !STRINGS.includes(name)) throw new Error(`unknown option --${name}\n${usage()}`);
    if (value === undefined) {
      value = argv[i + 1];
      i += 1;
    }
    if (value === undefined) throw new Error(`--${name} needs a value`);
    raw.set(name, value);
  }
  if (raw.get('help') === 'true') {
    process.stdout.write(`${usage()}\n`);
    process.exit(0);
  }
  const options: Partial<ChaosOptions> = {};
  for (const [name, key] of Object.entries(NUMERIC)) {
    const value = raw.get(name);
    if (value === undefined) continue;
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n)) throw new Error(`--${name} must be a number (got "${value}")`);
    (options as Record<string, number>)[key] = n;
  }
  const truthy = (name: string) => ['1', 'true', 'yes'].includes((raw.get(name) ?? '').toLowerCase());
  options.keepDir = truthy('keep');
  options.distDir = raw.get('dist');
  const fsync = raw.get('fsync') ?? 'both';
  if (!['everysec', 'always', 'both'].includes(fsync)) throw new Error(`--fsync must be everysec, always or both (got "${fsync}")`);
  return {
    options,
    fsync: fsync === 'both' ? ['everysec', 'always'] : [fsync as 'everysec' | 'always'],
    build: !truthy('no-build') && options.distDir === undefined,
    quiet: truthy('quiet'),
    json: raw.get('json'),
  };
}

async function main(): Promise<number> {
  let cli: Cli;
  try {
    cli = parse(process.argv.slice(2), process.env);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 2;
  }
  const progress = (line: string) => {
    if (!cli.quiet) process.stderr.write(`${line}\n`);
  };
  const abort = new AbortController();
  let interrupted = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupted += 1;
    if (interrupted > 1) process.exit(130); // the 'exit' handlers still SIGKILL every child
    process.stderr.write(`\n${sig}: stopping the chaos run and cleaning up (again to force)\n`);
    abort.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  if (cli.build) ensureDist({ rebuildIfStale: true, log: progress });
  // Both runs of --fsync both share one seed, so they face the same fault schedule.
  cli.options.seed ??= Math.floor(Math.random() * 2 ** 31);
  const command = `npm run chaos${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`;
  const runs: ChaosFigures[] = [];
  for (const fsync of cli.fsync) {
    runs.push(await runChaos({ ...cli.options, fsync, log: progress, signal: abort.signal }));
  }
  const leaseMs = cli.options.leaseMs ?? DEFAULT_OPTIONS.leaseMs;
  const windowMs = cli.options.windowMs ?? DEFAULT_OPTIONS.windowMs;
  process.stdout.write(`\n$ ${command}\n${runs[0].config}\n\n${formatTable(runs, leaseMs, windowMs)}\n\n${runs.map(formatDetails).join('\n')}\n`);
  if (cli.json) writeFileSync(cli.json, `${JSON.stringify(runs, null, 2)}\n`);
  return runs.every((r) => r.pass) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof ChaosAborted) {
      process.stderr.write('chaos run interrupted; every process it started was stopped\n');
      process.exit(130);
    }
    process.stderr.write(`chaos run failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  },
);
