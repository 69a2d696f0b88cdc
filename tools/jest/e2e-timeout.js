// Default timeout of the e2e/integration project (setupFilesAfterEnv), for every test and hook that
// does not set its own. Those specs start real processes, apps and Redis servers, which take seconds on
// a busy 2-core machine: jest's 5 s default would fail them on load, not on a defect. A wait that
// never ends still fails, here or at the waitFor inside (10 s by default, with a message naming it).
jest.setTimeout(30_000);
