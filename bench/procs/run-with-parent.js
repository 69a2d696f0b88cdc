// Runs a command we cannot change (our service's main.js, redis-server) for the benchmark and ends it
// with the benchmark: the command runs exactly as given (no IPC channel, nothing preloaded), its pid is
// reported over IPC ({ type: 'pid' }), SIGTERM/SIGINT are passed on, and when the benchmark process
// goes away (even by SIGKILL) the IPC channel closes and the command is killed.
const { spawn } = require('node:child_process');

const [command, ...args] = process.argv.slice(2);
const child = spawn(command, args, { stdio: 'inherit' });
process.send?.({ type: 'pid', pid: child.pid });
process.on('disconnect', () => {
  child.kill('SIGKILL');
  process.exit(1);
});
process.on('SIGTERM', () => child.kill('SIGTERM'));
process.on('SIGINT', () => child.kill('SIGTERM'));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
