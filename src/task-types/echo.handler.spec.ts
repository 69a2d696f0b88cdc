import { EchoHandler } from './echo.handler';
import { TASK_TYPE_METADATA, TaskContext, TaskHandler } from './task-handler';

const ctx = (): TaskContext => ({ taskId: 'id', attempt: 1, signal: new AbortController().signal });

describe('EchoHandler', () => {
  const handler: TaskHandler = new EchoHandler();

  it('is registered under the "echo" type', () => {
    expect(Reflect.getMetadata(TASK_TYPE_METADATA, EchoHandler)).toBe('echo');
  });

  it.each([
    ['hello', 'echo: hello'],
    ['', 'echo: '],
    ['  spaced  ', 'echo:   spaced  '],
    ['multi\nline', 'echo: multi\nline'],
    ['{"a":1}', 'echo: {"a":1}'],
    ['héllo 👋', 'echo: héllo 👋'],
  ])('echoes %p as %p', async (payload, expected) => {
    await expect(handler.handle(payload, ctx())).resolves.toBe(expected);
  });

  it('accepts every payload (no validatePayload)', () => {
    expect(handler.validatePayload).toBeUndefined();
  });
});
