/**
 * Two projects: fast unit specs next to the code, and specs that talk to a real Redis
 * (integration specs of the Lua scripts and e2e specs of the HTTP API).
 * `npm test` runs both, in band, so suites never compete for the 2 cores.
 *
 * ts-jest only transpiles (tsconfig.jest.json: tsconfig.json with isolatedModules): type-checking every
 * spec's program again in jest cost about 0.7 s per suite (20 test/queue suites: 52 s -> 38 s) and
 * 5 s for one suite run alone. `npm run typecheck` (tsc over src, test, tools...) checks the types,
 * and .ci/run runs it before the tests.
 */
const tsJest = ['ts-jest', { tsconfig: 'tsconfig.jest.json' }];

module.exports = {
  // Names the running test file for .ci/bounded, and turns "jest did not exit" into a failure that
  // lists what a test left open (tools/jest/progress-reporter.js).
  reporters: ['default', '<rootDir>/tools/jest/progress-reporter.js'],
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform: { '^.+\\.ts$': tsJest },
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: '.',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts', '<rootDir>/test/**/*.int-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/tools/jest/e2e-timeout.js'],
      transform: { '^.+\\.ts$': tsJest },
    },
  ],
};
