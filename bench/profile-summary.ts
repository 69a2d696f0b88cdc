/**
 * Summarises V8 CPU profiles (`node --cpu-prof`, e.g. from `npm run bench -- --cpu-prof=DIR`): self
 * time by function and by package/file, and inclusive time of our own functions.
 *
 *   ts-node --transpile-only bench/profile-summary.ts DIR/our-worker-c50-3-123.cpuprofile [--top=25]
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
export interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const ROOT_URL = `file://${join(__dirname, '..')}/`;

/** Our service's code: src/, dist/ or a private build in bench/.build/<pid>/ (shown as ours/...). */
function ownPath(url: string): string | undefined {
  const path = url.startsWith(ROOT_URL) ? url.slice(ROOT_URL.length) : url.startsWith(join(__dirname, '..')) ? url.slice(join(__dirname, '..').length + 1) : undefined;
  if (!path || path.includes('node_modules')) return undefined;
  const m = /^(?:src|dist|bench\/\.build\/\d+)\/(.+)$/.exec(path);
  return m ? `ours/${m[1]}` : undefined;
}

function where(url: string): string {
  if (!url) return '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.startsWith('node:')) return url;
  return ownPath(url) ?? url.replace(ROOT_URL, '').replace(`${join(__dirname, '..')}/`, '');
}

function label(f: CallFrame): string {
  return `${f.functionName || '(anonymous)'} ${where(f.url)}:${f.lineNumber + 1}`;
}

/** Adds `amount` to the total kept under `key`. */
function addTo(m: Map<string, number>, key: string, amount: number): void {
  m.set(key, (m.get(key) ?? 0) + amount);
}

/** The `n` largest totals, largest first, one line each as `format` writes the amount. */
function topLines(m: Map<string, number>, n: number, format: (amount: number) => string): string {
  return [...m.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([k, amount]) => `  ${format(amount)}  ${k}`)
    .join('\n');
}

export function summarize(profile: Profile, top = 25): string {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const idle = [...selfUs.entries()]
    .filter(([id]) => ['(idle)', '(program)', '(garbage collector)'].includes(byId.get(id)?.callFrame.functionName ?? ''))
    .reduce((acc, [id, us]) => ({ ...acc, [byId.get(id)!.callFrame.functionName]: us }), {} as Record<string, number>);

  const selfByFn = new Map<string, number>();
  const selfByPlace = new Map<string, number>();
  const inclusiveOwn = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id)!;
    addTo(selfByFn, label(node.callFrame), us);
    addTo(selfByPlace, where(node.callFrame.url), us);
    // Inclusive time of our own frames (dist/ or src/): walk up the stack, count each function once.
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      if (ownPath(f.url)) {
        const l = label(f);
        if (!seen.has(l)) {
          seen.add(l);
          addTo(inclusiveOwn, l, us);
        }
      }
    }
  }
  const pct = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
  const list = (m: Map<string, number>, n: number) => topLines(m, n, (us) => `${pct(us)}  ${(us / 1000).toFixed(0).padStart(7)} ms`);
  const busy = total - (idle['(idle)'] ?? 0);
  return [
    `profile: ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s wall, ${(total / 1000).toFixed(0)} ms sampled, busy (not idle) ${(busy / 1000).toFixed(0)} ms = ${pct(busy).trim()}; GC ${pct(idle['(garbage collector)'] ?? 0).trim()}, (program) ${pct(idle['(program)'] ?? 0).trim()}`,
    '',
    `self time by package / file (top ${top}):`,
    list(selfByPlace, top),
    '',
    `self time by function (top ${top}):`,
    list(selfByFn, top),
    '',
    `inclusive time of our own functions (src/ or a build of it, top ${top}):`,
    list(inclusiveOwn, top),
  ].join('\n');
}

/** V8's sampling heap profile (HeapProfiler.stopSampling), as bench/procs/alloc-sampler writes it. */
export interface AllocationProfile {
  head: AllocationNode;
}
interface AllocationNode {
  callFrame: CallFrame;
  selfSize: number;
  children: AllocationNode[];
}

/**
 * Bytes allocated per request, or per task of a worker (sampled: V8 records an allocation about every
 * 4 KiB and scales it), by package / file and by function: what the garbage collector reclaims for each.
 */
export function summarizeAllocations(profile: AllocationProfile, requests: number, top = 25, unit = 'request'): string {
  const byPlace = new Map<string, number>();
  const byFn = new Map<string, number>();
  let total = 0;
  const walk = (n: AllocationNode): void => {
    if (n.selfSize > 0) {
      total += n.selfSize;
      addTo(byPlace, where(n.callFrame.url), n.selfSize);
      addTo(byFn, label(n.callFrame), n.selfSize);
    }
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  const perRequest = (bytes: number) => `${Math.round(bytes / requests).toLocaleString('en-US').padStart(7)} B`;
  const list = (m: Map<string, number>) => topLines(m, top, perRequest);
  return [
    `allocated per ${unit}: ${perRequest(total).trim()} (${(total / 1e6).toFixed(0)} MB over ${requests.toLocaleString('en-US')} ${unit}s)`,
    '',
    `by package / file (top ${top}):`,
    list(byPlace),
    '',
    `by function (top ${top}):`,
    list(byFn),
  ].join('\n');
}

if (require.main === module) {
  const files = process.argv.slice(2).filter((a) => !a.startsWith('--'));
  const top = Number(process.argv.find((a) => a.startsWith('--top='))?.slice(6) ?? 25);
  if (files.length === 0) {
    process.stderr.write('usage: profile-summary.ts FILE.cpuprofile... [--top=25]\n');
    process.exit(2);
  }
  for (const f of files) {
    process.stdout.write(`== ${f}\n${summarize(JSON.parse(readFileSync(f, 'utf8')) as Profile, top)}\n\n`);
  }
}
