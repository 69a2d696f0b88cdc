import { ReplyError } from 'ioredis';
import { QueueServerError, QueueUnavailableError } from './queue-errors';

/**
 * Replies Redis gives while it cannot serve now but will without anyone's help: loading its dataset,
 * running a long script, a replica (or a failover in progress), a cluster resharding or without a
 * quorum, or a Cluster redirect that ioredis did not follow (ASK/MOVED inside an autopipeline whose
 * other replies differ, seen while a slot migrates). Every other reply (WRONGTYPE, NOAUTH, NOPERM, OOM,
 * a script's runtime error, ERR ...) stays until someone fixes the data, the code or the server, so
 * retrying it only hides it.
 */
const TRANSIENT_REPLIES = new Set(['LOADING', 'BUSY', 'READONLY', 'TRYAGAIN', 'CLUSTERDOWN', 'MASTERDOWN', 'ASK', 'MOVED']);

/**
 * Redis Cluster refusing a key a script derives (not in KEYS) because its slot is being migrated to
 * another node: it answers once the move is over, like TRYAGAIN. The refusal comes at the first access
 * of such a key, and the scripts read the task's hash before writing it.
 */
const MIGRATING_SCRIPT_KEY = /^ERR Script attempted to access a non local key in a cluster node/;

/**
 * Errors ioredis raises itself when a command has no answer: the connection (or the Cluster) is closed
 * or not ready (offline queue off), the command timed out, or it was aborted by a dropped connection (AbortError,
 * MaxRetriesPerRequestError).
 */
const CONNECTION_MESSAGES = [
  /^Connection is closed\.?$/,
  /^Stream isn't writeable/,
  /^Command timed out$/,
  /^Command aborted due to connection close/,
  // The Cluster client: no slot map yet (connecting), or no node answers.
  /^Cluster isn't ready/,
  /^Failed to refresh slots cache/,
  /^None of startup nodes is available/,
];
const CONNECTION_ERROR_NAMES = new Set(['AbortError', 'MaxRetriesPerRequestError']);
/** Socket errors (Node system errors) of a connection that is refused, reset or unreachable. */
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

export type RedisErrorClass = 'unavailable' | 'server-error';

/** Which failures of a Redis command are worth retrying (503) and which are ours to fix (500). */
export function classifyRedisError(err: unknown): RedisErrorClass {
  // Duck-typed, not `instanceof Error`: Node's socket errors may come from another realm (a vm context).
  if (typeof err !== 'object' || err === null) return 'server-error';
  const { name, message, code } = err as { name?: unknown; message?: unknown; code?: unknown };
  const text = typeof message === 'string' ? message : '';
  if (err instanceof ReplyError || name === 'ReplyError') {
    return TRANSIENT_REPLIES.has(text.split(' ', 1)[0]) || MIGRATING_SCRIPT_KEY.test(text) ? 'unavailable' : 'server-error';
  }
  if (typeof name === 'string' && CONNECTION_ERROR_NAMES.has(name)) return 'unavailable';
  if (CONNECTION_MESSAGES.some((m) => m.test(text))) return 'unavailable';
  if (typeof code === 'string' && SOCKET_CODES.has(code)) return 'unavailable';
  return 'server-error';
}

/** The one place a failed Redis command becomes a queue error: QueueUnavailableError (503) or QueueServerError (500). */
export function toQueueError(err: unknown): QueueUnavailableError | QueueServerError {
  return classifyRedisError(err) === 'unavailable' ? new QueueUnavailableError(err) : new QueueServerError(err);
}
