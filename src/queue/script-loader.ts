import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import type Redis from 'ioredis';

/** The Lua scripts, one per state transition; each file's header documents its KEYS, ARGV and result. */
export const SCRIPTS = {
  enqueue: { file: 'enqueue.lua', keys: 2 },
  fetch: { file: 'fetch.lua', keys: 4 },
  heartbeat: { file: 'heartbeat.lua', keys: 1 },
  settle: { file: 'settle.lua', keys: 3 },
  recover: { file: 'recover.lua', keys: 3 },
  delete: { file: 'delete.lua', keys: 3 },
  purgeExpired: { file: 'purge-expired.lua', keys: 2 },
  getTask: { file: 'get-task.lua', keys: 2 },
  retryTask: { file: 'retry-task.lua', keys: 3 },
  retryFailed: { file: 'retry-failed.lua', keys: 3 },
  deleteFinished: { file: 'delete-finished.lua', keys: 1 },
  outcomeCounts: { file: 'outcome-counts.lua', keys: 1 },
  workerBeat: { file: 'worker-beat.lua', keys: 2 },
  workerLeave: { file: 'worker-leave.lua', keys: 2 },
  workers: { file: 'workers.lua', keys: 1 },
  /** Variable number of status indexes: the caller passes numkeys first. */
  queueOverview: { file: 'queue-overview.lua', keys: undefined },
  /** Variable number of index keys: the caller passes numkeys first. */
  list: { file: 'list.lua', keys: undefined },
  scheduleCreate: { file: 'schedule-create.lua', keys: 3 },
  schedulesDue: { file: 'schedules-due.lua', keys: 1 },
  scheduleAdvance: { file: 'schedule-advance.lua', keys: 1 },
  schedulePause: { file: 'schedule-pause.lua', keys: 2 },
  scheduleDelete: { file: 'schedule-delete.lua', keys: 3 },
  schedulesList: { file: 'schedules-list.lua', keys: 1 },
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const LUA_DIR = join(__dirname, 'lua');
const INCLUDE = /^--- @include "([a-z-]+)"$/gm;

/** Reads a script and inlines its `--- @include "name"` lines from lua/lib (as BullMQ does). */
export function loadScriptSource(file: string): string {
  const source = readFileSync(join(LUA_DIR, file), 'utf8');
  return source.replace(INCLUDE, (_, name: string) => readFileSync(join(LUA_DIR, 'lib', `${name}.lua`), 'utf8'));
}

/**
 * Registers every script on a client with ioredis `defineCommand`: EVALSHA, falling back to EVAL (and
 * so re-loading) when Redis answers NOSCRIPT, e.g. after a restart or SCRIPT FLUSH.
 */
export function defineScripts(client: Redis | Cluster): void {
  for (const [name, spec] of Object.entries(SCRIPTS)) {
    client.defineCommand(name, { lua: loadScriptSource(spec.file), numberOfKeys: spec.keys });
  }
}

export type ScriptArg = string | number;
/** The commands defineScripts adds to a client. */
export type ScriptCommands = {
  [K in ScriptName]: (...args: ScriptArg[]) => Promise<unknown>;
};
