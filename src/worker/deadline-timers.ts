/** What a deadline fires. */
export interface DeadlineTarget {
  onDeadline(): void;
}

/** One deadline in its duration's list; `list` is unset once it fired or was cancelled. */
export class Deadline {
  prev?: Deadline;
  next?: Deadline;

  constructor(
    readonly at: number,
    readonly target: DeadlineTarget,
    public list: DeadlineList | undefined,
  ) {}
}

/** The deadlines of one duration, in the order they were set (so in the order they fall due). */
interface DeadlineList {
  readonly ms: number;
  /** The lists by duration it belongs to: an emptied list leaves it (durations are any integer). */
  readonly owner: Map<number, DeadlineList>;
  head?: Deadline;
  tail?: Deadline;
  timer?: NodeJS.Timeout;
}

/**
 * The timeouts of running attempts: one Node timer per distinct duration instead of one per attempt.
 * Deadlines of one duration fall due in the order they were set, so each duration's list is FIFO
 * (added at the tail, cancelled anywhere in O(1)) and its one timer is set for its head; when it
 * fires, every deadline due by then fires, in order, and the timer is set for the next. A list left
 * empty clears its timer, so nothing keeps the process alive, and leaves the map (a client may send
 * any timeout_ms, so the durations seen are unbounded; the lists alive are bounded by the running
 * attempts). Times are performance.now(), monotonic like Node's timers: a step of the wall clock
 * moves no deadline. A setTimeout/clearTimeout pair per attempt cost 0.4-0.8 µs (a Timeout object,
 * libuv's clock, Node's own lists); this is a small object and performance.now().
 */
export class DeadlineTimers {
  private readonly lists = new Map<number, DeadlineList>();

  /** Fires `target.onDeadline()` in `ms` (from now), unless cancelled first. */
  add(ms: number, target: DeadlineTarget): Deadline {
    let list = this.lists.get(ms);
    if (!list) {
      list = { ms, owner: this.lists };
      this.lists.set(ms, list);
    }
    const deadline = new Deadline(performance.now() + ms, target, list);
    if (list.tail) {
      list.tail.next = deadline;
      deadline.prev = list.tail;
      list.tail = deadline;
    } else {
      list.head = deadline;
      list.tail = deadline;
    }
    if (!list.timer) list.timer = setTimeout(fire, ms, list);
    return deadline;
  }

  /** The deadline will not fire; nothing happens when it fired or was cancelled already. */
  cancel(deadline: Deadline): void {
    const list = deadline.list;
    if (!list) return;
    unlink(list, deadline);
    if (!list.head) {
      if (list.timer) clearTimeout(list.timer);
      list.timer = undefined;
      if (list.owner.get(list.ms) === list) list.owner.delete(list.ms);
    }
  }
}

function unlink(list: DeadlineList, deadline: Deadline): void {
  if (deadline.prev) deadline.prev.next = deadline.next;
  else list.head = deadline.next;
  if (deadline.next) deadline.next.prev = deadline.prev;
  else list.tail = deadline.prev;
  deadline.prev = undefined;
  deadline.next = undefined;
  deadline.list = undefined;
}

function fire(list: DeadlineList): void {
  list.timer = undefined;
  const now = performance.now();
  let head = list.head;
  while (head && head.at <= now) {
    unlink(list, head);
    try {
      head.target.onDeadline();
    } catch (err) {
      // What one target throws does not keep the others from firing (it is thrown on its own).
      queueMicrotask(() => {
        throw err;
      });
    }
    head = list.head;
  }
  // Node's timer clock and performance.now() may differ by a fraction of a millisecond: a head not
  // yet due gets its own wait.
  if (head) list.timer = setTimeout(fire, Math.max(1, head.at - now), list);
  else if (list.owner.get(list.ms) === list) list.owner.delete(list.ms);
}
