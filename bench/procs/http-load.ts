/**
 * autocannon in its own process, for the HTTP runs wrk cannot do (a fixed number of requests: the
 * end-to-end section and the smoke test) and as the fallback when wrk cannot be installed. Options
 * come as one JSON argument; the result is printed as one line `HTTP_LOAD_JSON {...}`, with the CPU
 * time this process used during the run (process.cpuUsage, so start-up is not counted).
 *
 *   node bench/.build/<pid>/js/bench/procs/http-load.js '{"url":"http://127.0.0.1:3000/tasks","method":"POST","body":"{}","connections":50,"seconds":5}'
 */
import autocannon from 'autocannon';

export interface HttpLoadOptions {
  url: string;
  method?: 'GET' | 'POST';
  body?: string;
  connections: number;
  seconds?: number;
  /** Stop after this many requests instead of after `seconds`. */
  amount?: number;
  /** Paths to pick from at random for every request (GET by id). */
  paths?: string[];
}

export interface HttpLoadOutput {
  requests: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  p50: number;
  p99: number;
  seconds: number;
  cpuMs: number;
  /** Wall-clock time (epoch ms) when the load started. */
  startedAt: number;
}

async function main(): Promise<void> {
  const o = JSON.parse(process.argv[2] ?? '') as HttpLoadOptions;
  const paths = o.paths;
  let answered = 0;
  let lastAnswerAt = 0;
  const cpu0 = process.cpuUsage();
  const startedAt = Date.now();
  const started = performance.now();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: o.url,
        method: o.method ?? 'GET',
        body: o.body,
        headers: o.body ? { 'content-type': 'application/json' } : undefined,
        connections: o.connections,
        duration: o.seconds ?? 10,
        amount: o.amount,
        // autocannon notices the end of a run only at a sample tick: keep ticks short for `amount` runs.
        sampleInt: o.amount ? 50 : 1000,
        timeout: 10,
        requests: paths ? [{ setupRequest: (req) => ({ ...req, path: paths[Math.floor(Math.random() * paths.length)] }) }] : undefined,
      },
      (err, res) => (err ? reject(err) : resolve(res)),
    );
    instance.on('response', () => {
      answered += 1;
      lastAnswerAt = performance.now();
    });
  });
  const cpu = process.cpuUsage(cpu0);
  // For `amount` runs the time is taken up to the last answer (autocannon's duration includes the tick).
  const seconds = o.amount ? (lastAnswerAt - started) / 1000 : result.duration;
  const out: HttpLoadOutput = {
    requests: o.amount ? answered : result.requests.total,
    ok: (result as unknown as Record<string, number>)['2xx'] ?? 0,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    p50: result.latency.p50,
    p99: result.latency.p99,
    seconds,
    cpuMs: (cpu.user + cpu.system) / 1000,
    startedAt,
  };
  process.stdout.write(`HTTP_LOAD_JSON ${JSON.stringify(out)}\n`);
}

process.on('disconnect', () => process.exit(1));
main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`http-load failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
