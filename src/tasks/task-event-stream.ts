import { Injectable, OnModuleDestroy } from '@nestjs/common';
import type { Response } from 'express';
import { QueueUnavailableError, TaskNotFoundError } from '../queue/queue-errors';
import { QueueRepository } from '../queue/queue.repository';
import { FINAL_EVENTS, TaskEvent, TaskEventBus, TaskEventName } from '../queue/task-event-bus';
import { TaskRecord } from '../queue/task.model';
import { toTaskResponse } from './task-response';
import { until } from './task-waiter';

/** A comment line every this often keeps proxies and load balancers from closing an idle stream. */
export const KEEP_ALIVE_MS = 15_000;
/** How long opening a stream waits for the events subscription before answering 503. */
export const SUBSCRIBE_WAIT_MS = 5_000;

/**
 * Order of states: an attempt's 'processing' comes before how it ended; a later attempt after an
 * earlier one. Events (or states read) that do not move past the last one sent are not sent again.
 */
function rank(name: TaskEventName, attempt: number): number {
  return attempt * 2 + (name === 'processing' ? 0 : 1);
}

/** The state a task is in, named like the event that led there. */
export function stateName(task: TaskRecord): TaskEventName {
  if (task.status === 'pending' && task.runAt !== undefined && task.retries > 0) return 'retrying';
  return task.status;
}

/**
 * What an event carries: the task as read, when it is still in the state the event announces;
 * otherwise (it moved on before the event was sent: transitions in quick succession, one read for
 * several events) a short form that does not contradict the event: id, status, attempts, and what
 * that attempt's history entry says (started_at and worker_id; error for an attempt that failed).
 */
export function eventData(name: TaskEventName, attempt: number, task: TaskRecord): object {
  if (stateName(task) === name && task.attempts === attempt) return toTaskResponse(task);
  const status = name === 'retrying' ? 'pending' : name;
  const entry = toTaskResponse(task).history?.find((h) => h.attempt === attempt);
  const short: Record<string, unknown> = { id: task.id, status, attempts: attempt };
  if (entry?.started_at) {
    short.started_at = entry.started_at;
    short.worker_id = entry.worker_id;
  }
  if (name !== 'processing' && entry?.error) short.error = entry.error;
  return short;
}

/**
 * GET /tasks/{id}/events: Server-Sent Events of one task's state changes. The first event is the task
 * as it is; then one event per change, named by the change (pending, processing, retrying, completed,
 * failed, deleted), each carrying the task as read when it is sent; the stream ends after completed,
 * failed or deleted. Events come from the process' one subscription (TaskEventBus); a stream holds one
 * keep-alive timer.
 */
@Injectable()
export class TaskEventStream implements OnModuleDestroy {
  /** Open streams, closed on shutdown (EventSource clients reconnect to another process). */
  private readonly open = new Set<() => void>();

  constructor(
    private readonly queue: QueueRepository,
    private readonly events: TaskEventBus,
  ) {}

  /**
   * Serves the stream on `res` until the task is finished or deleted, the client leaves or the process
   * shuts down. Throws before anything is written (404, 503); after that, errors end the stream.
   */
  async serve(id: string, res: Response): Promise<void> {
    const queued: TaskEvent[] = [];
    let wake: () => void = () => undefined;
    const watch = this.events.watch(id, (event) => {
      queued.push(event);
      wake();
    });
    // Ended by the client leaving (nothing more may be written) or by shutdown (the stream is ended).
    const gone = new AbortController();
    const leave = () => gone.abort();
    const stopping = new AbortController();
    const stop = () => stopping.abort();
    const closed = AbortSignal.any([gone.signal, stopping.signal]);
    res.once('close', leave);
    this.open.add(stop);
    let keepAlive: NodeJS.Timeout | undefined;
    try {
      const subscribed = new AbortController();
      const giveUp = setTimeout(() => subscribed.abort(), SUBSCRIBE_WAIT_MS);
      const ready = await until(watch.ready, AbortSignal.any([subscribed.signal, closed]));
      clearTimeout(giveUp);
      if (gone.signal.aborted) return;
      if (!ready) throw new QueueUnavailableError(new Error('events subscription not ready'));
      const task = await this.queue.get(id);
      if (!task) throw new TaskNotFoundError(id);
      if (gone.signal.aborted) return;

      res.status(200);
      res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
      res.setHeader('Cache-Control', 'no-cache, no-transform');
      res.setHeader('Connection', 'keep-alive');
      // nginx would otherwise buffer the stream.
      res.setHeader('X-Accel-Buffering', 'no');
      res.flushHeaders();
      keepAlive = setInterval(() => res.write(': keep-alive\n\n'), KEEP_ALIVE_MS);

      let last = stateName(task);
      let lastRank = rank(last, task.attempts);
      this.send(res, last, eventData(last, task.attempts, task));
      while (!FINAL_EVENTS.has(last) && !closed.aborted) {
        if (queued.length === 0) {
          await until(new Promise((resolve) => (wake = resolve)), closed);
          continue;
        }
        // Everything queued so far is sent with one read of the task.
        const batch = queued.splice(0, queued.length);
        const current = await this.queue.get(id);
        if (closed.aborted) break;
        if (!current) {
          this.send(res, 'deleted', { id });
          break;
        }
        for (const event of batch) {
          const name = event.name === 'resync' ? stateName(current) : event.name;
          const attempt = event.name === 'resync' ? current.attempts : event.attempt;
          const r = rank(name, attempt);
          if (name !== 'deleted' && r <= lastRank && !(FINAL_EVENTS.has(name) && !FINAL_EVENTS.has(last))) continue;
          this.send(res, name, name === 'deleted' ? { id } : eventData(name, attempt, current));
          last = name;
          lastRank = r;
          if (FINAL_EVENTS.has(name)) break;
        }
      }
      if (!gone.signal.aborted) res.end();
    } catch (err) {
      // Before the headers the error filter answers (404, 503); after them the stream just ends.
      if (!res.headersSent) throw err;
      if (!gone.signal.aborted) res.end();
    } finally {
      clearInterval(keepAlive);
      watch.stop();
      res.off('close', leave);
      this.open.delete(stop);
    }
  }

  /** Streams open in this process. */
  get openStreams(): number {
    return this.open.size;
  }

  onModuleDestroy(): void {
    for (const stop of this.open) stop();
  }

  private send(res: Response, name: TaskEventName, data: object): void {
    res.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  }
}
