import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { TaskNotFoundError } from '../queue/queue-errors';
import type { QueueRepository } from '../queue/queue.repository';
import type { TaskEventBus, TaskEventListener, TaskWatch } from '../queue/task-event-bus';
import type { TaskRecord } from '../queue/task.model';
import { eventData, KEEP_ALIVE_MS, stateName, TaskEventStream } from './task-event-stream';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';

function task(overrides: Partial<TaskRecord>): TaskRecord {
  return { id: ID, queue: 'default', type: 'echo', payload: '', status: 'pending', retries: 0, maxRetry: 3, attempts: 0, stalls: 0, createdAt: 1, updatedAt: 1, ...overrides };
}

/** A bus whose subscription is ready at once; the test emits events by hand. */
class FakeBus {
  listener?: TaskEventListener;
  stopped = 0;
  watch(_id: string, listener: TaskEventListener): TaskWatch {
    this.listener = listener;
    return { ready: Promise.resolve(), stop: () => (this.stopped += 1) };
  }
}

/** Just enough of an Express response: records what is written. */
class FakeResponse extends EventEmitter {
  written: string[] = [];
  ended = false;
  headersSent = false;
  statusCode = 0;
  status(code: number) {
    this.statusCode = code;
    return this;
  }
  setHeader() {
    return this;
  }
  flushHeaders() {
    this.headersSent = true;
  }
  write(chunk: string) {
    this.written.push(chunk);
    return true;
  }
  end() {
    this.ended = true;
    this.emit('close');
  }
  events(): string[] {
    return this.written.filter((w) => w.startsWith('event: ')).map((w) => w.slice(7, w.indexOf('\n')));
  }
}

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('TaskEventStream', () => {
  let states: Array<TaskRecord | undefined>;
  let bus: FakeBus;
  let res: FakeResponse;
  let stream: TaskEventStream;
  const queue = { get: jest.fn(async () => states.shift()) };

  beforeEach(() => {
    bus = new FakeBus();
    res = new FakeResponse();
    queue.get.mockClear();
    stream = new TaskEventStream(queue as unknown as QueueRepository, bus as unknown as TaskEventBus);
  });

  const serve = () => stream.serve(ID, res as unknown as Response);

  it('skips events the first state already shows, sends later ones in order with one read per batch, ends after the last', async () => {
    states = [task({ status: 'processing', attempts: 1 }), task({ status: 'completed', attempts: 1 })];
    const served = serve();
    await flush();
    expect(res.events()).toEqual(['processing']);
    // Published before the first read, delivered after it: already shown.
    bus.listener?.({ id: ID, name: 'processing', attempt: 1 });
    bus.listener?.({ id: ID, name: 'completed', attempt: 1 });
    await served;
    expect(res.events()).toEqual(['processing', 'completed']);
    expect(queue.get).toHaveBeenCalledTimes(2);
    expect(res.ended).toBe(true);
    expect(bus.stopped).toBe(1);
    expect(stream.openStreams).toBe(0);
  });

  it('after a resync (events may have been lost) sends the state read when it moved on', async () => {
    states = [task({ status: 'pending' }), task({ status: 'pending', attempts: 1, retries: 1, runAt: 5, error: 'x' }), task({ status: 'failed', attempts: 2 })];
    const served = serve();
    await flush();
    bus.listener?.({ id: ID, name: 'resync' });
    await flush();
    bus.listener?.({ id: ID, name: 'resync' });
    await served;
    expect(res.events()).toEqual(['pending', 'retrying', 'failed']);
  });

  it('writes a keep-alive comment every 15 s while nothing happens', async () => {
    jest.useFakeTimers({ doNotFake: ['setImmediate', 'nextTick', 'queueMicrotask'] });
    try {
      states = [task({ status: 'pending' }), undefined];
      const served = serve();
      await flush();
      jest.advanceTimersByTime(KEEP_ALIVE_MS * 2);
      expect(res.written.filter((w) => w === ': keep-alive\n\n')).toHaveLength(2);
      bus.listener?.({ id: ID, name: 'deleted', attempt: 0 });
      await served;
      expect(res.events()).toEqual(['pending', 'deleted']);
      jest.advanceTimersByTime(KEEP_ALIVE_MS * 2);
      expect(res.written.filter((w) => w === ': keep-alive\n\n')).toHaveLength(2);
    } finally {
      jest.useRealTimers();
    }
  });

  it('a client that leaves stops the stream without writing more', async () => {
    states = [task({ status: 'pending' })];
    const served = serve();
    await flush();
    res.emit('close');
    await served;
    expect(res.ended).toBe(false);
    expect(bus.stopped).toBe(1);
  });

  it('an unknown task throws before anything is written (the filter answers 404)', async () => {
    states = [undefined];
    await expect(serve()).rejects.toBeInstanceOf(TaskNotFoundError);
    expect(res.written).toEqual([]);
    expect(bus.stopped).toBe(1);
  });

  it('shutdown ends open streams', async () => {
    states = [task({ status: 'pending' })];
    const served = serve();
    await flush();
    stream.onModuleDestroy();
    await served;
    expect(res.ended).toBe(true);
  });

  it('an event the task has already moved past carries a short form that agrees with it', () => {
    const moved = task({
      status: 'failed',
      attempts: 2,
      retries: 1,
      error: 'second',
      history: [
        { attempt: 1, outcome: 'retry', startedAt: 10, endedAt: 20, workerId: 'w/1', error: 'first' },
        { attempt: 2, outcome: 'failed', startedAt: 30, endedAt: 40, workerId: 'w/2', error: 'second' },
      ],
    });
    expect(eventData('processing', 1, moved)).toEqual({ id: ID, status: 'processing', attempts: 1, started_at: new Date(10).toISOString(), worker_id: 'w/1' });
    expect(eventData('retrying', 1, moved)).toEqual({
      id: ID,
      status: 'pending',
      attempts: 1,
      started_at: new Date(10).toISOString(),
      worker_id: 'w/1',
      error: 'first',
    });
    // Still in the announced state: the whole task.
    expect(eventData('failed', 2, moved)).toMatchObject({ status: 'failed', attempts: 2, error: 'second', history: expect.any(Array) });
  });

  it('names a pending task waiting for a retry "retrying"', () => {
    expect(stateName(task({ status: 'pending', retries: 1, runAt: 10 }))).toBe('retrying');
    expect(stateName(task({ status: 'pending', retries: 1 }))).toBe('pending');
    expect(stateName(task({ status: 'completed' }))).toBe('completed');
  });
});
