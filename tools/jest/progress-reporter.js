// @ts-check
'use strict';
/**
 * A jest reporter with two jobs, both about runs that do not end:
 *
 * 1. When JEST_PROGRESS_FILE is set (`.ci/bounded` sets it), it appends one line per event, written
 *    synchronously so the file is complete even if the run is then SIGKILLed:
 *      start <TAB> <file>            a test file starts
 *      case  <TAB> <file> <TAB> <name>  a test in it starts
 *      end   <TAB> <file>            the file finished
 *      complete                      every file finished
 *    A run stopped at its time limit can then name the file and the test that were still running.
 *
 * 2. Once the run is complete, jest waits for the process to exit by itself. If something a test
 *    started is still open (a socket, a child process, a server, a timer), that wait never ends. After
 *    JEST_EXIT_GRACE_MS (default 10000) this reporter lists what is still open and exits with code 1,
 *    so a leak is a clear failure instead of a hang. Not in watch mode, nor with --detectOpenHandles
 *    or --forceExit (those handle the exit themselves).
 */
const { appendFileSync } = require('node:fs');
const { relative } = require('node:path');

class ProgressReporter {
  /**
   * @param {{ rootDir: string, watch?: boolean, watchAll?: boolean, detectOpenHandles?: boolean, forceExit?: boolean }} globalConfig
   */
  constructor(globalConfig) {
    this.globalConfig = globalConfig;
    this.file = process.env.JEST_PROGRESS_FILE || undefined;
    this.graceMs = Number(process.env.JEST_EXIT_GRACE_MS || 10_000);
  }

  /** @param {string} path */
  name(path) {
    return relative(this.globalConfig.rootDir, path) || path;
  }

  /** @param {string[]} fields */
  write(...fields) {
    if (!this.file) return;
    try {
      appendFileSync(this.file, `${fields.map((f) => f.replace(/[\t\n]/g, ' ')).join('\t')}\n`);
    } catch {
      // A progress file that cannot be written must not fail the run.
    }
  }

  /** @param {{ path: string }} test */
  onTestFileStart(test) {
    this.write('start', this.name(test.path));
  }

  /** @param {{ path: string }} test @param {{ fullName: string }} info */
  onTestCaseStart(test, info) {
    this.write('case', this.name(test.path), info.fullName);
  }

  /** @param {{ path: string }} test */
  onTestFileResult(test) {
    this.write('end', this.name(test.path));
  }

  onRunComplete() {
    this.write('complete');
    const c = this.globalConfig;
    if (c.watch || c.watchAll || c.detectOpenHandles || c.forceExit || !(this.graceMs > 0)) return;
    setTimeout(() => {
      const open = describeOpenResources();
      process.stderr.write(
        `\njest: the test run finished ${this.graceMs} ms ago, but the process is still held open by: ${open}.\n` +
          'A test left these running: stop what a test starts in afterEach/afterAll/finally, also when an assertion fails.\n' +
          'Exiting with code 1 (re-run the file with --detectOpenHandles to see where they were created).\n',
      );
      killChildProcesses();
      process.exit(1);
    }, this.graceMs).unref();
  }
}

/** @returns {unknown[]} */
function activeHandles() {
  // @ts-expect-error Node's internal list of handles (sockets, servers, child processes); no public equivalent gives details.
  const handles = typeof process._getActiveHandles === 'function' ? process._getActiveHandles() : [];
  return handles.filter((/** @type {unknown} */ h) => h !== process.stdout && h !== process.stderr && h !== process.stdin);
}

/** One readable line: every open handle (sockets, servers, child processes) and the number of live timers. */
function describeOpenResources() {
  const parts = activeHandles().map(describeHandle);
  const info = typeof process.getActiveResourcesInfo === 'function' ? process.getActiveResourcesInfo() : [];
  const timers = info.filter((kind) => kind === 'Timeout' || kind === 'Immediate').length;
  if (timers > 0) parts.push(`${timers} timer(s)`);
  return parts.join('; ') || 'nothing Node can name';
}

/** @param {any} h */
function describeHandle(h) {
  if (h && typeof h.pid === 'number' && Array.isArray(h.spawnargs)) return `child process ${h.pid} (${h.spawnargs.join(' ')})`;
  if (h && typeof h.remotePort === 'number') return `socket to ${h.remoteAddress}:${h.remotePort}`;
  if (h && typeof h.listening === 'boolean' && typeof h.address === 'function') {
    const a = h.address();
    return `server listening on ${a && typeof a === 'object' ? `${a.address}:${a.port}` : String(a)}`;
  }
  if (h && h.connecting) return 'a socket still connecting';
  return String(h?.constructor?.name ?? typeof h);
}

/** Child processes a test left behind would outlive jest's exit; end them with it. */
function killChildProcesses() {
  for (const h of activeHandles()) {
    const child = /** @type {any} */ (h);
    if (child && typeof child.pid === 'number' && typeof child.kill === 'function') {
      try {
        child.kill('SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

module.exports = ProgressReporter;
