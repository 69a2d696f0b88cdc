import { newTaskId, queueOfTaskId, TASK_ID_PATTERN, UUID_ID_PATTERN } from './task-id';

describe('task ids', () => {
  it('issues 22 characters of base64url (16 random bytes), after `<queue>.` for a queue other than default', () => {
    const ids = Array.from({ length: 1000 }, () => newTaskId());
    for (const id of ids) {
      expect(id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(id, 'base64url')).toHaveLength(16);
      expect(TASK_ID_PATTERN.test(id)).toBe(true);
      expect(queueOfTaskId(id)).toBe('default');
    }
    expect(new Set(ids).size).toBe(ids.length);
    const named = newTaskId('emails');
    expect(named).toMatch(/^emails\.[A-Za-z0-9_-]{22}$/);
    expect(queueOfTaskId(named)).toBe('emails');
    expect(newTaskId('default')).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('draws fresh bytes past the pool (more than 256 ids in a row are all distinct)', () => {
    const ids = new Set(Array.from({ length: 3000 }, () => newTaskId()));
    expect(ids.size).toBe(3000);
  });

  it('still accepts the UUID ids issued before (plain and `<queue>.<uuid>`)', () => {
    for (const id of ['0f8fad5b-d9cb-469f-a165-70867728950e', 'emails.0f8fad5b-d9cb-469f-a165-70867728950e']) {
      expect(TASK_ID_PATTERN.test(id)).toBe(true);
      expect(UUID_ID_PATTERN.test(id.toUpperCase())).toBe(true);
    }
    expect(queueOfTaskId('emails.0f8fad5b-d9cb-469f-a165-70867728950e')).toBe('emails');
  });

  it.each([
    ['21 characters', 'a'.repeat(21)],
    ['23 characters', 'a'.repeat(23)],
    ['a character outside base64url', `${'a'.repeat(21)}+`],
    ['a queue name in upper case', `Emails.${'a'.repeat(22)}`],
    ['an empty queue name', `.${'a'.repeat(22)}`],
    ['two dots', `a..${'a'.repeat(22)}`],
    ['a UUID in upper case (the pipe lowers it first)', '0F8FAD5B-D9CB-469F-A165-70867728950E'],
  ])('rejects %s', (_what, id) => {
    expect(TASK_ID_PATTERN.test(id)).toBe(false);
  });
});
