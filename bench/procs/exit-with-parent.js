// Preloaded (node -r) into every child process of the benchmark, which all get an IPC channel: when
// the benchmark process goes away (even by SIGKILL), the channel closes and the child exits too.
process.on('disconnect', () => process.exit(1));
