import { checkScriptResult, QueueErrorCode } from './queue-errors';
import { NewTask, parseTaskHash, TaskRecord } from './task.model';

/**
 * What submitting one task came to (see QueueRepository.submit): created; the same task as an earlier
 * element of the call (`index`, 0-based: its idempotency key came twice with the same request); a replay
 * of the task an earlier request with the same idempotency key created; or rejected: the key was used with
 * another request ('conflict'), or its task no longer exists ('gone').
 */
export type SubmitOutcome =
  | { kind: 'created' }
  | { kind: 'same-as'; index: number }
  | { kind: 'replayed'; task: TaskRecord }
  | { kind: 'conflict' }
  | { kind: 'gone' };

export interface SubmitResult {
  /** created_at (Redis time, ms) of the tasks created by this call. */
  createdAt: number;
  /** Per task, in order. */
  outcomes: SubmitOutcome[];
  /** Some outcome is a conflict or gone: nothing was stored. */
  rejected: boolean;
}

/** enqueue.lua's first reply value when an idempotency key was rejected; lua/lib/task-options.lua ERR_IDEMPOTENCY. */
export const ENQUEUE_IDEMPOTENCY_REJECTED = -4;

/** Most tasks one enqueue call takes from several submits (one submit's own tasks are never split). */
export const GROUP_MAX_TASKS = 1000;
/** Most payload characters one enqueue call takes from several submits. */
export const GROUP_MAX_CHARS = 1 << 20;

/**
 * A group of at least twice this many submits, sent while no call of its queue is in flight, goes as
 * two calls: the first half at once, the second at setImmediate (the next loop turn). Redis answers the
 * calls it read in one go together, so two calls written at once would come back at once; a turn
 * apart, Redis runs the second while the client answers the first half's callers and sends what they
 * submit next, and the two halves keep alternating (a closed loop of 50 callers: client and Redis
 * overlap instead of taking turns). Below this size a second call costs more than the overlap gains.
 * A group holding an idempotency key is not split (flush says why).
 */
export const PIPELINE_SPLIT_MIN = 8;

/**
 * Sends one enqueue.lua call holding `parts` (each one submit's tasks, in order) into `queue` with
 * idempotency keys kept `ttlMs`; resolves to the script's raw reply, rejects as the call failed.
 */
export type EnqueueSend = (queue: string, ttlMs: number, parts: NewTask[][]) => Promise<unknown>;

const CREATED: SubmitOutcome = Object.freeze({ kind: 'created' });

interface Submit {
  tasks: NewTask[];
  /** The idempotency keys among its tasks, if any. */
  keys: string[] | undefined;
  chars: number;
  resolve: (result: SubmitResult) => void;
  reject: (err: unknown) => void;
}

/** The submits of one queue and idempotency lifetime that go out in one script call. */
class Group {
  readonly submits: Submit[] = [];
  tasks = 0;
  chars = 0;
  keys: Set<string> | undefined;
  sent = false;

  constructor(
    readonly slot: string,
    readonly queue: string,
    readonly ttlMs: number,
  ) {}

  /** Whether `s` may join: within the bounds (an empty group takes anything), and none of its keys already in. */
  takes(s: Submit, maxTasks: number, maxChars: number): boolean {
    if (this.submits.length === 0) return true;
    if (this.tasks + s.tasks.length > maxTasks || this.chars + s.chars > maxChars) return false;
    if (s.keys && this.keys) for (const key of s.keys) if (this.keys.has(key)) return false;
    return true;
  }

  add(s: Submit): void {
    this.submits.push(s);
    this.tasks += s.tasks.length;
    this.chars += s.chars;
    if (s.keys) {
      this.keys ??= new Set();
      for (const key of s.keys) this.keys.add(key);
    }
  }
}

/**
 * Group commit of enqueues: the submits of one queue made in the same event-loop turn go to Redis in one
 * enqueue.lua call, and each submit gets its own answer. A submit is never split or merged with another
 * in a way that changes what it alone would come to:
 * - a group holds at most `maxTasks` tasks and `maxChars` payload characters (one larger submit goes alone);
 * - an idempotency key already in the group starts a new group, sent after it (so the later submit
 *   replays the earlier one's task, as it would alone);
 * - a duplicate id (the script stores nothing) sends each submit of the group again alone, so only
 *   the one(s) at fault get DuplicateTaskIdError; a rejected idempotency key (nothing stored either)
 *   answers the submits with a conflict or a gone task, and sends the others again together;
 * - a failed call (Redis down, a timeout, an error reply) rejects every submit of the group with its error.
 *
 * When: at the end of the current tick (process.nextTick) when no call of the queue is in flight and
 * its last call held one submit, so a lone caller waits for nothing; otherwise at setImmediate, after
 * the other I/O callbacks of this loop turn (concurrent HTTP requests, each read in a tick of its own,
 * join): what ioredis' auto-pipelining waited for anyway. A large group sent while nothing of its queue
 * is in flight goes as two calls a loop turn apart (PIPELINE_SPLIT_MIN).
 */
export class EnqueueGroups {
  private readonly open = new Map<string, Group>();
  private readonly inFlight = new Map<string, number>();
  /** The slots whose last call held several submits: callers are concurrent there. */
  private readonly crowded = new Set<string>();

  constructor(
    private readonly send: EnqueueSend,
    private readonly maxTasks = GROUP_MAX_TASKS,
    private readonly maxChars = GROUP_MAX_CHARS,
    private readonly splitMin = PIPELINE_SPLIT_MIN,
  ) {}

  /** Stores `tasks` (of `queue`) all or none, with the next group of that queue; see the class. */
  submit(queue: string, ttlMs: number, tasks: NewTask[]): Promise<SubmitResult> {
    return new Promise<SubmitResult>((resolve, reject) => {
      let keys: string[] | undefined;
      let chars = 0;
      for (const t of tasks) {
        chars += t.payload.length;
        if (t.idempotencyKey !== undefined) (keys ??= []).push(t.idempotencyKey);
      }
      this.join(queue, ttlMs, { tasks, keys, chars, resolve, reject });
    });
  }

  private join(queue: string, ttlMs: number, s: Submit): void {
    const slot = `${ttlMs}|${queue}`;
    let group = this.open.get(slot);
    if (group && !group.takes(s, this.maxTasks, this.maxChars)) {
      this.flush(group);
      group = undefined;
    }
    if (!group) {
      group = new Group(slot, queue, ttlMs);
      this.open.set(slot, group);
      if (this.inFlight.get(slot) || this.crowded.has(slot)) setImmediate(flushGroup, this, group);
      else process.nextTick(flushGroup, this, group);
    }
    group.add(s);
  }

  /** Sends the group now (once); in two calls when nothing of its queue is in flight (PIPELINE_SPLIT_MIN). */
  flush(group: Group, split = true): void {
    if (group.sent) return;
    group.sent = true;
    if (this.open.get(group.slot) === group) this.open.delete(group.slot);
    const { slot, submits } = group;
    // Not a group with an idempotency key: a later submit of that key starts a group that may be sent
    // in this turn, before a second half sent at setImmediate, and would then create the task the
    // earlier submit should have (its replay, or the 422, would go to the wrong caller).
    if (split && !group.keys && submits.length >= 2 * this.splitMin && !this.inFlight.get(slot)) {
      // Separate callers: no order between them to keep.
      const half = submits.length >> 1;
      this.sendNow(group, submits.slice(0, half), false);
      setImmediate(sendLater, this, group, submits.slice(half));
      return;
    }
    if (submits.length > 1) this.crowded.add(slot);
    else this.crowded.delete(slot);
    this.inFlight.set(slot, (this.inFlight.get(slot) ?? 0) + 1);
    const done = () => {
      const n = (this.inFlight.get(slot) ?? 1) - 1;
      if (n > 0) this.inFlight.set(slot, n);
      else this.inFlight.delete(slot);
    };
    let call: Promise<unknown>;
    try {
      call = this.send(group.queue, group.ttlMs, submits.map((s) => s.tasks));
    } catch (err) {
      call = Promise.reject(err);
    }
    call.then(
      (reply) => {
        done();
        try {
          this.answer(group, reply);
        } catch (err) {
          // A submit already answered ignores this.
          for (const s of submits) s.reject(err);
        }
      },
      (err: unknown) => {
        done();
        for (const s of submits) s.reject(err);
      },
    );
  }

  /** Splits the reply among the group's submits (enqueue.lua's header describes the reply). */
  private answer(group: Group, reply: unknown): void {
    const { submits } = group;
    const firstId = submits[0]?.tasks[0]?.id ?? '';
    if (!Array.isArray(reply)) {
      if (reply === QueueErrorCode.DuplicateId && submits.length > 1) {
        // Nothing was stored: each alone, in order, so only the submit(s) at fault get the error.
        for (const s of submits) this.sendNow(group, [s]);
        return;
      }
      const createdAt = Number(checkScriptResult(reply, firstId));
      for (const s of submits) {
        const outcomes = new Array<SubmitOutcome>(s.tasks.length).fill(CREATED);
        s.resolve({ createdAt, outcomes, rejected: false });
      }
      return;
    }
    const code = Number(reply[0]);
    const rejected = code === ENQUEUE_IDEMPOTENCY_REJECTED;
    if (!rejected) checkScriptResult(code, firstId);
    const again: Submit[] = [];
    let first = 0;
    for (const s of submits) {
      const n = s.tasks.length;
      const outcomes = new Array<SubmitOutcome>(n);
      let refused = false;
      for (let j = 0; j < n; j += 1) {
        const o = submitOutcome(reply[first + j + 1], first);
        if (o.kind === 'conflict' || o.kind === 'gone') refused = true;
        outcomes[j] = o;
      }
      first += n;
      // Rejected and not for this submit: nothing was stored, it goes again.
      if (rejected && !refused) again.push(s);
      else s.resolve({ createdAt: code, outcomes, rejected });
    }
    if (again.length > 0) this.sendNow(group, again);
  }

  /** Sends `submits` (of `like`'s queue and lifetime) in one call now; `split`: as flush. */
  sendNow(like: Group, submits: Submit[], split = true): void {
    const group = new Group(like.slot, like.queue, like.ttlMs);
    for (const s of submits) group.add(s);
    this.flush(group, split);
  }
}

function flushGroup(groups: EnqueueGroups, group: Group): void {
  groups.flush(group);
}

function sendLater(groups: EnqueueGroups, like: Group, submits: Submit[]): void {
  groups.sendNow(like, submits, false);
}

/** One element's reply entry; `first`: the 0-based index of its submit's first task in the call. */
function submitOutcome(entry: unknown, first: number): SubmitOutcome {
  if (entry === 'conflict' || entry === 'gone') return { kind: entry };
  if (Array.isArray(entry)) {
    const [id, pairs] = entry as [string, string[]];
    const hash: Record<string, string> = {};
    for (let i = 0; i < pairs.length; i += 2) hash[pairs[i]] = pairs[i + 1];
    const task = parseTaskHash(id, hash);
    if (task) return { kind: 'replayed', task };
  }
  const earlier = Number(entry);
  if (!(earlier > 0)) return CREATED;
  // An idempotency key given twice: both times within one submit (a group never holds a key twice otherwise).
  const index = earlier - 1 - first;
  if (index < 0) throw new Error(`enqueue: element ${earlier} answers a task of another submit`);
  return { kind: 'same-as', index };
}
