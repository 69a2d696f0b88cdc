import { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { spawnChild } from '../../tools/dev/child-process';
import { freePort } from '../../tools/dev/ports';
import { TEST_REDIS_URL } from './redis';
import { waitFor } from './wait';

const ROOT = join(__dirname, '..', '..');

export { freePort };

export interface ServiceProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Resolves with the exit code (or the signal name) once the process has exited. */
  exited: Promise<number | string>;
}

/**
 * The real service (src/main.ts through ts-node, so no build is needed) as its own OS process, for
 * tests that need what only a process has: SIGKILL, SIGTERM, exit codes. Does not wait for it:
 * for a process that is not meant to become ready (Redis down at boot, a port in use).
 */
export async function spawnService(env: Record<string, string>, port?: number): Promise<ServiceProcess & { kill(): Promise<void> }> {
  const listenOn = port ?? (await freePort());
  const handle = spawnChild('service', {
    command: process.execPath,
    args: ['-r', 'ts-node/register/transpile-only', join(ROOT, 'src/main.ts')],
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: TEST_REDIS_URL,
      LOG_LEVEL: 'info',
      // No readiness delay before the listener closes on SIGTERM unless the test sets one.
      SHUTDOWN_READY_DELAY_MS: '0',
      ...env,
      SERVER_PORT: String(listenOn),
    },
    // All of it: tests take `output().length` as a position and read what came after it.
    keepOutput: Infinity,
  });
  return {
    child: handle.child,
    url: `http://127.0.0.1:${listenOn}`,
    output: () => handle.output(),
    exited: handle.exited.then(({ code, signal }) => code ?? signal ?? 'unknown'),
    kill: async () => {
      await handle.kill();
    },
  };
}

/** spawnService, then waits until it answers ready; a service that never does is killed. */
export async function startService(env: Record<string, string>): Promise<ServiceProcess> {
  const service = await spawnService(env);
  try {
    await untilReady(service);
  } catch (err) {
    // The caller gets no handle to stop it with: a service that never got ready ends here.
    await service.kill();
    throw err;
  }
  return service;
}

/**
 * Waits until a spawned service answers ready (fails when it exits first). For services spawned
 * together, whose caller already holds their handles to stop them.
 */
export async function untilReady({ child, url, output }: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  await waitFor(
    async () => {
      if (child.exitCode !== null) throw new Error(`service exited early:\n${output()}`);
      const res = await fetch(`${url}/health/ready`).catch(() => undefined);
      return res?.ok ? true : undefined;
    },
    { timeoutMs, intervalMs: 100, what: 'service readiness' },
  );
}

export async function stopService(service: ServiceProcess | undefined): Promise<void> {
  if (!service || service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill('SIGKILL');
  await service.exited;
}
