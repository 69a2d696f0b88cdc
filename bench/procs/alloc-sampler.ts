/**
 * Preloaded (`node -r <compiled alloc-sampler.js> ...`) into a process that bench/profile.ts
 * profiles with `--alloc`: on SIGUSR2 it starts V8's sampling heap profiler with the objects the
 * young and old generation collections free kept in (the allocations a request makes and drops,
 * which are what the garbage collector pays for; `node --heap-prof` keeps only what is still alive
 * at exit), and when the process exits it writes the profile to ALLOC_PROFILE_OUT. SIGUSR2 comes
 * after the warm-up, so boot and warm-up allocations are not counted.
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';

const out = process.env.ALLOC_PROFILE_OUT;
if (out) {
  const session = new Session();
  session.connect();
  let started = false;
  process.on('SIGUSR2', () => {
    if (started) return;
    started = true;
    session.post('HeapProfiler.enable', () => {
      session.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      });
    });
  });
  // A session in the same thread answers synchronously, so the profile is written before the exit.
  process.on('exit', () => {
    if (!started) return;
    session.post('HeapProfiler.stopSampling', (err, result) => {
      if (!err) writeFileSync(out, JSON.stringify(result.profile));
    });
  });
}
