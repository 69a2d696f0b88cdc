import { ReverseHandler } from './reverse.handler';
import { TASK_TYPE_METADATA, TaskContext, TaskHandler } from './task-handler';

const ctx = (): TaskContext => ({ taskId: 'id', attempt: 1, signal: new AbortController().signal });

describe('ReverseHandler', () => {
  const handler: TaskHandler = new ReverseHandler();

  it('is registered under the "reverse" type', () => {
    expect(Reflect.getMetadata(TASK_TYPE_METADATA, ReverseHandler)).toBe('reverse');
  });

  it.each([
    ['Hello', 'olleH'],
    ['', ''],
    ['a', 'a'],
    ['ab', 'ba'],
    ['racecar', 'racecar'],
    ['Hello, World!', '!dlroW ,olleH'],
    ['héllo', 'olléh'],
    ['日本語', '語本日'],
    ['a b\tc', 'c\tb a'],
  ])('reverses %p to %p', async (payload, expected) => {
    await expect(handler.handle(payload, ctx())).resolves.toBe(expected);
  });

  it('keeps astral-plane characters (emoji) intact', async () => {
    const result = await handler.handle('ab😀c', ctx());
    expect(result).toBe('c😀ba');
    // A UTF-16 code-unit reversal would split the surrogate pair into two lone surrogates.
    expect(result).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
  });

  it('reverses a string made only of astral characters by code point', async () => {
    await expect(handler.handle('😀🎉𝄞', ctx())).resolves.toBe('𝄞🎉😀');
  });

  it('is its own inverse', async () => {
    const input = 'The quick 🦊 jumps 𝒳 over';
    const once = await handler.handle(input, ctx());
    await expect(handler.handle(once, ctx())).resolves.toBe(input);
  });
});
