import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { HttpLoadOptions, HttpLoadOutput } from '../procs/http-load';
import { BenchBuild, compiled } from './build';
import { commandLine, runToEnd } from './processes';
import { clockTicksPerSecond, ROOT } from './util';

export type { HttpLoadOptions } from '../procs/http-load';

/** One HTTP load run, measured by a generator in its own process. */
export interface LoadResult {
  generator: 'wrk' | 'autocannon';
  /** Requests answered per second (2xx and others). */
  rps: number;
  /** Latency percentiles, ms. */
  p50: number;
  p99: number;
  /** Connection errors (connect, read, write) and timeouts. */
  errors: number;
  timeouts: number;
  non2xx: number;
  ok: number;
  seconds: number;
  /** CPU time of the generator process during the run, in cores (CPU seconds per second of run). */
  generatorCores: number;
  /** Wall-clock time (epoch ms) when the load started (autocannon runs only). */
  startedAt?: number;
}

export type GeneratorChoice = 'auto' | 'wrk' | 'autocannon';

/**
 * HTTP load from a separate, cheap process: `wrk -t1` (C, one thread) for every run of a fixed
 * duration, and autocannon in its own Node process for runs of a fixed number of requests (which wrk
 * cannot do) or when wrk is not there and cannot be installed. Nothing of the load runs in the
 * benchmark process. Every command line used is kept for the report.
 */
export class LoadGenerator {
  readonly commandLines = new Set<string>();
  /** What happened when looking for wrk (for the report). */
  wrkNote = '';
  private wrk?: boolean;
  /** Lua scripts written so far, by content. */
  private readonly scripts = new Map<string, string>();
  private readonly scriptDir: string;

  constructor(
    private readonly build: BenchBuild,
    private readonly log: (line: string) => void,
    private readonly choice: GeneratorChoice = 'auto',
  ) {
    this.scriptDir = join(build.root, 'wrk');
  }

  /** Finds wrk, installing it with apt-get when missing (apt-get update first if the install fails). */
  ensureWrk(): boolean {
    if (this.wrk !== undefined) return this.wrk;
    if (this.choice === 'autocannon') {
      this.wrkNote = 'autocannon chosen (--generator=autocannon)';
      return (this.wrk = false);
    }
    const version = () => {
      const r = spawnSync('wrk', ['-v'], { encoding: 'utf8' });
      return r.error ? undefined : /wrk\s+(\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown version';
    };
    let found = version();
    if (!found) {
      this.log('wrk is missing: apt-get install -y wrk');
      const install = () => spawnSync('apt-get', ['install', '-y', 'wrk'], { encoding: 'utf8', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
      let r = install();
      if (r.status !== 0) {
        this.log('apt-get install failed: apt-get update, then install again');
        spawnSync('apt-get', ['update'], { encoding: 'utf8' });
        r = install();
      }
      found = version();
      if (!found) this.log(`wrk could not be installed (${(r.error?.message ?? r.stderr ?? '').trim().split('\n').pop()}); using autocannon in its own process`);
      else this.wrkNote = 'installed by this run with apt-get';
    }
    if (!found && this.choice === 'wrk') throw new Error('--generator=wrk: wrk is not installed and could not be installed');
    this.wrkNote = found ? `wrk ${found}${this.wrkNote ? `, ${this.wrkNote}` : ''}` : 'wrk not available: autocannon in its own process';
    return (this.wrk = Boolean(found));
  }

  /** Runs one load; a fixed `amount` of requests always goes to autocannon (in its own process). */
  async run(o: HttpLoadOptions): Promise<LoadResult> {
    return o.amount === undefined && this.ensureWrk() ? this.runWrk(o) : this.runAutocannon(o);
  }

  private async runAutocannon(o: HttpLoadOptions): Promise<LoadResult> {
    const script = compiled(this.build, 'bench/procs/http-load.ts');
    const args = [script, JSON.stringify(o)];
    const shown = { ...o, body: o.body && o.body.length > 200 ? `<${o.body.length} bytes>` : o.body, paths: o.paths ? `<${o.paths.length} paths>` : undefined };
    this.commandLines.add(commandLine({}, 'node', [script, JSON.stringify(shown)]));
    const stdout = await runToEnd('http-load (autocannon)', process.execPath, args, {});
    const line = stdout.split('\n').find((l) => l.startsWith('HTTP_LOAD_JSON '));
    if (!line) throw new Error(`http-load printed no result:\n${stdout}`);
    const r = JSON.parse(line.slice('HTTP_LOAD_JSON '.length)) as HttpLoadOutput;
    return {
      generator: 'autocannon',
      rps: r.requests / r.seconds,
      p50: r.p50,
      p99: r.p99,
      errors: r.errors,
      timeouts: r.timeouts,
      non2xx: r.non2xx,
      ok: r.ok,
      seconds: r.seconds,
      generatorCores: r.cpuMs / 1000 / r.seconds,
      startedAt: r.startedAt,
    };
  }

  private async runWrk(o: HttpLoadOptions): Promise<LoadResult> {
    const seconds = Math.max(1, Math.round(o.seconds ?? 10));
    const script = this.writeScript(o);
    const url = new URL(o.url);
    const args = ['-t1', `-c${o.connections}`, `-d${seconds}s`, '--timeout', '10s', '-s', script, `${url.origin}${o.paths ? '' : url.pathname + url.search}`];
    this.commandLines.add(`wrk ${args.map((a) => (a === script ? relative(ROOT, script) : a)).join(' ')}`);
    const stdout = await runToEnd('wrk', 'wrk', args, {});
    const line = stdout.split('\n').find((l) => l.startsWith('WRK_JSON '));
    if (!line) throw new Error(`wrk printed no summary:\n${stdout}`);
    const r = JSON.parse(line.slice('WRK_JSON '.length)) as {
      requests: number; duration_us: number; connect: number; read: number; write: number; status: number; timeout: number;
      p50_us: number; p99_us: number; utime: number; stime: number;
    };
    const runSeconds = r.duration_us / 1e6;
    return {
      generator: 'wrk',
      rps: r.requests / runSeconds,
      p50: r.p50_us / 1000,
      p99: r.p99_us / 1000,
      errors: r.connect + r.read + r.write,
      timeouts: r.timeout,
      // wrk counts answers with a status above 399 as `status` errors.
      non2xx: r.status,
      ok: r.requests - r.status,
      seconds: runSeconds,
      // utime + stime of the whole wrk process (start-up included, a few ms), read by its done().
      generatorCores: (r.utime + r.stime) / clockTicksPerSecond() / runSeconds,
    };
  }

  /**
   * The Lua script of one run: method, body and headers, optional random paths, and a done() that
   * prints the summary and wrk's own CPU time (utime, stime from /proc/self/stat) as one JSON line.
   */
  private writeScript(o: HttpLoadOptions): string {
    const lines = [`wrk.method = "${o.method ?? 'GET'}"`];
    if (o.body !== undefined) {
      if (o.body.includes(']==]')) throw new Error('body cannot be quoted for Lua');
      lines.push(`wrk.body = [==[${o.body}]==]`, 'wrk.headers["Content-Type"] = "application/json"');
    }
    if (o.paths) {
      for (const p of o.paths) if (!/^[\w/?=&.%-]+$/.test(p)) throw new Error(`path ${p} cannot be quoted for Lua`);
      lines.push(
        `local paths = { ${o.paths.map((p) => `"${p}"`).join(', ')} }`,
        'request = function() return wrk.format(nil, paths[math.random(#paths)]) end',
      );
    }
    lines.push(
      'done = function(summary, latency, requests)',
      '  local f = io.open("/proc/self/stat", "r")',
      '  local stat = f:read("*a")',
      '  f:close()',
      '  local fields = {}',
      '  for v in stat:match("%) (.*)"):gmatch("%S+") do fields[#fields + 1] = v end',
      '  local e = summary.errors',
      '  io.write(string.format(\'WRK_JSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"p50_us":%.1f,"p99_us":%.1f,"utime":%s,"stime":%s}\\n\',',
      '    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,',
      '    latency:percentile(50), latency:percentile(99), fields[12], fields[13]))',
      'end',
    );
    const text = `${lines.join('\n')}\n`;
    let path = this.scripts.get(text);
    if (!path) {
      mkdirSync(this.scriptDir, { recursive: true });
      path = join(this.scriptDir, `${this.scripts.size + 1}-${describeScript(o)}.lua`);
      writeFileSync(path, text);
      this.scripts.set(text, path);
    }
    return path;
  }
}

function describeScript(o: HttpLoadOptions): string {
  const path = new URL(o.url).pathname.replace(/\W+/g, '-').replace(/^-|-$/g, '') || 'root';
  return `${(o.method ?? 'GET').toLowerCase()}-${path}${o.paths ? `-${o.paths.length}-paths` : ''}`;
}
