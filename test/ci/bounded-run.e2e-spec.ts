import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../support/wait';

/**
 * The CI guard against hung runs: `.ci/bounded` stops a command at its time limit, names the test
 * still running, and leaves nothing behind; the jest progress reporter fails a run that finished but
 * cannot exit because a test left something open.
 */
const ROOT = join(__dirname, '..', '..');
const BOUNDED = join(ROOT, '.ci', 'bounded');
const FIXTURES = join(__dirname, 'fixtures');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end; a wrapper that does not end is killed by the `finally` of the caller. */
function run(command: string, args: string[], env: Record<string, string> = {}): { done: Promise<Run>; kill: () => void } {
  // Not the outer run's JEST_* variables (its progress file, its worker id): only what the case sets.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith('JEST_')));
  const child = spawn(command, args, { cwd: ROOT, env: { ...inherited, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<Run>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return {
    done,
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** Alive and not a zombie (an orphan whose exit nobody has collected yet is gone for our purpose). */
function running(pid: number): boolean {
  const stat = `/proc/${pid}/stat`;
  if (existsSync('/proc')) {
    try {
      return readFileSync(stat, 'utf8').split(') ')[1]?.[0] !== 'Z';
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const gone = (pids: number[]) =>
  waitFor(() => (pids.every((pid) => !running(pid)) ? true : undefined), { timeoutMs: 5000, what: `processes ${pids.join(', ')} to be gone` });

describe('.ci/bounded: a hung command fails the run quickly and leaves nothing running', () => {
  it('stops a command that never ends at the limit: exit 124, the test still running named, child and grandchild gone', async () => {
    const r = run('bash', [BOUNDED, '--limit', '3', '--grace', '2', '--', process.execPath, join(FIXTURES, 'hanging-command.js')]);
    try {
      const started = Date.now();
      const { code, stdout, stderr } = await r.done;
      expect(code).toBe(124);
      expect(stderr).toMatch(/TIME LIMIT: .* still running after 3 s/);
      expect(stderr).toContain('still running: test/stuck.e2e-spec.ts  (last test started: stuck waits for ever)');
      expect(stderr).not.toContain('still running: test/finished.e2e-spec.ts');
      // A hang is caught by the limit, not by this test's own timeout.
      expect(Date.now() - started).toBeLessThan(15_000);
      const pids = /pids (\d+) (\d+)/.exec(stdout)?.slice(1).map(Number);
      expect(pids).toHaveLength(2);
      await gone(pids!);
    } finally {
      r.kill();
    }
  }, 30_000);

  it('passes the exit code of a command that ends on its own', async () => {
    for (const code of [0, 7]) {
      const r = run('bash', [BOUNDED, '--limit', '30', '--', process.execPath, '-e', `process.exit(${code})`]);
      try {
        expect((await r.done).code).toBe(code);
      } finally {
        r.kill();
      }
    }
  }, 30_000);

  it('fails a command that exits 0 but leaves a process running, and kills that process', async () => {
    const script = "const c = require('child_process').spawn('sleep', ['1000'], { stdio: 'ignore' }); c.unref(); console.log('left', c.pid)";
    const r = run('bash', [BOUNDED, '--limit', '30', '--', process.execPath, '-e', script]);
    try {
      const { code, stdout, stderr } = await r.done;
      expect(code).toBe(3);
      expect(stderr).toMatch(/exited with code 0 but left processes running/);
      expect(stderr).toMatch(/sleep 1000/);
      await gone([Number(/left (\d+)/.exec(stdout)?.[1])]);
    } finally {
      r.kill();
    }
  }, 30_000);
});

describe('jest progress reporter', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'taskqueue-progress-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('fails a run whose tests pass but leave a server open, naming it, and records the progress of every file', async () => {
    const progress = join(dir, 'progress');
    const jest = join(ROOT, 'node_modules', 'jest', 'bin', 'jest.js');
    const r = run(process.execPath, [jest, '--config', join(FIXTURES, 'jest.config.js'), '--runInBand', '--ci'], {
      JEST_PROGRESS_FILE: progress,
      JEST_EXIT_GRACE_MS: '1000',
    });
    try {
      const { code, stderr } = await r.done;
      expect(stderr).toMatch(/Tests: +1 passed, 1 total/);
      expect(stderr).toMatch(/the test run finished 1000 ms ago, but the process is still held open by: .*server listening on 127\.0\.0\.1:\d+/);
      expect(code).toBe(1);
      expect(readFileSync(progress, 'utf8').split('\n')).toEqual([
        'start\tleaky.fixture.js',
        'case\tleaky.fixture.js\tstarts a server and forgets to close it',
        'end\tleaky.fixture.js',
        'complete',
        '',
      ]);
    } finally {
      r.kill();
    }
  }, 60_000);
});
