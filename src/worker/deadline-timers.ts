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
  head?: Deadline;
  tail?: Deadline;
  timer?: NodeJS.Timeout;
}

/**
 * The timeouts of running attempts: one Node timer per distinct duration instead of one per attempt.
 * Deadlines of one duration fall due in the order they were set, so each duration's list is FIFO
 * (added at the tail, cancelled anywhere in O(1)) and its one timer is set for its head; when it
 * fires, every deadline due by then fires, in order, and the timer is set for the next. A list left
 * empty clears its timer, so nothing keeps the process alive. A setTimeout/clearTimeout pair per
 * attempt cost 0.4-0.8 µs (a Timeout object, libuv's clock, Node's own lists); this is a small
 * object and Date.now().
 */
export class DeadlineTimers {
  private readonly lists = new Map<number, DeadlineList>();

  /** Fires `target.onDeadline()` in `ms` (from now), unless cancelled first. */
  add(ms: number, target: DeadlineTarget): Deadline {
    let list = this.lists.get(ms);
    if (!list) {
      list = { ms };
      this.lists.set(ms, list);
    }
    const deadline = new Deadline(Date.now() + ms, target, list);
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
    if (!list.head && list.timer) {
      clearTimeout(list.timer);
      list.timer = undefined;
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
  const now = Date.now();
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
  // Node's clock and Date.now() may differ by a millisecond: a head not yet due gets its own wait.
  if (head) list.timer = setTimeout(fire, Math.max(1, head.at - now), list);
}
