/**
 * The round-trip bound of a lone caller: one that awaits each call can make at most one call per round
 * trip, whatever the call does. Measured with the client our repository and BullMQ use (ioredis, default
 * options, one connection), in a closed loop of one caller: a bare PING, and EVALSHA of a script that
 * does nothing (`return 1`), the least any script-based enqueue can cost per call.
 */
import type Redis from 'ioredis';
import { closedLoop } from './measure';

type TrivialClient = Redis & { benchTrivialScript: () => Promise<unknown> };

export interface RoundTrip {
  /** A call per PING, one caller. */
  ping: () => Promise<number>;
  /** A call per EVALSHA of `return 1`, one caller. */
  evalsha: () => Promise<number>;
}

/** Loop bodies for closedLoop on `client` (the script is defined on it once). */
export function roundTripCalls(client: Redis): RoundTrip {
  client.defineCommand('benchTrivialScript', { numberOfKeys: 0, lua: 'return 1' });
  const c = client as TrivialClient;
  return {
    ping: () => c.ping().then(() => 1),
    evalsha: () => c.benchTrivialScript().then(() => 1),
  };
}

/** Calls per second of one sequential caller for `ms`. */
export async function sequentialRate(call: () => Promise<number>, ms: number): Promise<number> {
  return (await closedLoop(call, 1, ms)).perSec;
}
