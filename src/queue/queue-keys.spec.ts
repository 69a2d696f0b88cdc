import { QueueKeys } from './queue-keys';
import { TASK_STATUSES } from './task.model';

describe('QueueKeys', () => {
  const keys = new QueueKeys('taskqueue');
  const id = '0f8fad5b-d9cb-469f-a165-70867728950e';

  it('uses the "default" queue when none is given', () => {
    expect(keys.queueName).toBe('default');
    expect(keys.prefix).toBe('taskqueue');
    expect(keys.base).toBe('taskqueue:{default}:');
  });

  it('names the fixed keys of the queue', () => {
    expect(keys.queue).toBe('taskqueue:{default}:queue');
    expect(keys.active).toBe('taskqueue:{default}:active');
    expect(keys.legacyDone).toBe('taskqueue:{default}:done');
    expect(keys.marker).toBe('taskqueue:{default}:marker');
    expect(keys.cancelChannel).toBe('taskqueue:{default}:cancel');
    expect(keys.pattern).toBe('taskqueue:{default}:*');
  });

  it('names a task hash', () => {
    expect(keys.task(id)).toBe(`taskqueue:{default}:t:${id}`);
  });

  it.each(TASK_STATUSES)('names the listing index of status %s', (status) => {
    expect(keys.byStatus(status)).toBe(`taskqueue:{default}:s:${status}`);
  });

  it('names the listing index of a status and a type', () => {
    expect(keys.byStatusAndType('pending', 'echo')).toBe('taskqueue:{default}:st:pending:echo');
    expect(keys.byStatusAndType('failed', 'my.type:v2')).toBe('taskqueue:{default}:st:failed:my.type:v2');
  });

  it('names the queue of each priority level (normal is `queue` itself), the priority indexes and idempotency keys', () => {
    expect(keys.queueFor('high')).toBe('taskqueue:{default}:queue:high');
    expect(keys.queueFor('normal')).toBe('taskqueue:{default}:queue');
    expect(keys.queueFor()).toBe('taskqueue:{default}:queue');
    expect(keys.queueFor('low')).toBe('taskqueue:{default}:queue:low');
    expect(keys.byPriority('high')).toBe('taskqueue:{default}:p:high');
    expect(keys.byPriority('low')).toBe('taskqueue:{default}:p:low');
    expect(keys.idempotency('order {7} 1')).toBe('taskqueue:{default}:idem:order {7} 1');
  });

  it('gives every key the `<prefix>:{default}:` hash-tag prefix (one Cluster slot)', () => {
    const all = [
      keys.queueFor('high'),
      keys.queueFor('low'),
      keys.byPriority('high'),
      keys.idempotency('{other}'),
      keys.queue,
      keys.active,
      keys.legacyDone,
      keys.marker,
      keys.cancelChannel,
      keys.eventsChannel,
      keys.task(id),
      keys.history(id),
      ...TASK_STATUSES.map((s) => keys.byStatus(s)),
      ...TASK_STATUSES.map((s) => keys.byStatusAndType(s, 'sum')),
    ];
    for (const key of all) {
      expect(key.startsWith('taskqueue:{default}:')).toBe(true);
      // Redis Cluster hashes the text between the first "{" and the next "}".
      expect(/\{([^}]*)\}/.exec(key)?.[1]).toBe('default');
    }
    expect(new Set(all).size).toBe(all.length);
  });

  it("names a task's attempt history after its hash (the ids are UUIDs: no id ends in ':h')", () => {
    expect(keys.history(id)).toBe(`taskqueue:{default}:t:${id}:h`);
    expect(keys.eventsChannel).toBe('taskqueue:{default}:events');
  });

  it('keeps per-status and per-status-and-type indexes apart', () => {
    // A type named like a status must not collide with the status index.
    expect(keys.byStatusAndType('pending', 'x')).not.toBe(keys.byStatus('pending'));
    expect(keys.byStatus('pending')).not.toBe(keys.task('pending'));
  });

  describe('with a custom prefix and queue name', () => {
    const custom = new QueueKeys('myapp:prod', 'emails');

    it('builds every key from `<prefix>:{<queue>}:`', () => {
      expect(custom.prefix).toBe('myapp:prod');
      expect(custom.queueName).toBe('emails');
      expect(custom.base).toBe('myapp:prod:{emails}:');
      expect(custom.queue).toBe('myapp:prod:{emails}:queue');
      expect(custom.active).toBe('myapp:prod:{emails}:active');
      expect(custom.legacyDone).toBe('myapp:prod:{emails}:done');
      expect(custom.marker).toBe('myapp:prod:{emails}:marker');
      expect(custom.cancelChannel).toBe('myapp:prod:{emails}:cancel');
      expect(custom.task(id)).toBe(`myapp:prod:{emails}:t:${id}`);
      expect(custom.byStatus('completed')).toBe('myapp:prod:{emails}:s:completed');
      expect(custom.byStatusAndType('processing', 'slow')).toBe('myapp:prod:{emails}:st:processing:slow');
      expect(custom.pattern).toBe('myapp:prod:{emails}:*');
    });

    it('does not share keys with another queue of the same prefix', () => {
      const other = new QueueKeys('myapp:prod');
      expect(custom.queue).not.toBe(other.queue);
      expect(custom.task(id)).not.toBe(other.task(id));
    });
  });
});
