import { decodeCursor, encodeCursor } from './list-cursor';

const ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64url');

describe('list cursor', () => {
  it.each([
    { score: 1_700_000_000_123, id: ID },
    { score: 0, id: ID },
    { score: 1, id: '00000000-0000-0000-0000-000000000000' },
    { score: 9_007_199_254_740_991, id: 'ffffffff-ffff-4fff-bfff-ffffffffffff' },
    // Ids issued since 2026-11-30: 22 characters of base64url, plain or after `<queue>.`.
    { score: 1_700_000_000_123, id: 'AbC_-0123456789xyzXYZ_' },
    { score: 1, id: 'emails.AbC_-0123456789xyzXYZ_' },
    // In the finished part of a listing (completed and failed tasks, by finish time).
    { score: 1_700_000_000_123, id: ID, finished: true },
    { score: 0, id: 'emails.AbC_-0123456789xyzXYZ_', finished: true },
  ])('round-trips %p', (cursor) => {
    const text = encodeCursor(cursor);
    expect(decodeCursor(text)).toEqual(cursor);
  });

  it('is opaque URL-safe text (base64url without padding)', () => {
    const text = encodeCursor({ score: 1_700_000_000_123, id: ID });
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(text).not.toContain(ID);
    expect(text).toBe(b64(`1700000000123:${ID}`));
  });

  it('decodes a cursor built by hand in the documented format', () => {
    expect(decodeCursor(b64(`42:${ID}`))).toEqual({ score: 42, id: ID });
    expect(decodeCursor(b64(`f42:${ID}`))).toEqual({ score: 42, id: ID, finished: true });
  });

  it('writes a cursor of the open part exactly as cursors were written before the finished part existed', () => {
    expect(encodeCursor({ score: 42, id: ID, finished: false })).toBe(b64(`42:${ID}`));
    expect(encodeCursor({ score: 42, id: ID, finished: true })).toBe(b64(`f42:${ID}`));
  });

  it.each([
    ['36 dashes', '-'.repeat(36)],
    ['36 hex digits, no dashes', 'a'.repeat(36)],
    ['dashes in the wrong places', '0f8fad5bd-9cb-469f-a165-70867728950e'],
  ])('rejects a 36-character non-UUID id (%s)', (_name, id) => {
    expect(decodeCursor(b64(`1:${id}`))).toBeUndefined();
  });

  describe('rejects', () => {
    it.each([
      ['empty text', ''],
      ['garbage', 'not a cursor!'],
      ['text with spaces', 'abc def'],
      ['standard base64 with "+" and "/"', '+/+/'],
      ['base64 with padding', `${b64(`1:${ID}`)}=`],
      ['valid base64url of garbage', b64('hello world')],
      ['valid base64url of garbage 2', 'garbage'],
      ['percent-encoded text', '%41%42'],
    ])('%s', (_name, text) => {
      expect(decodeCursor(text)).toBeUndefined();
    });

    it.each([
      ['no separator', b64(`123${ID}`)],
      ['missing score', b64(`:${ID}`)],
      ['missing id', b64('123:')],
      ['non-uuid id', b64('123:not-a-uuid')],
      ['short id', b64('123:0f8fad5b-d9cb-469f-a165')],
      ['id with a trailing char', b64(`123:${ID}x`)],
      ['uppercase id (ids are lowercase)', b64(`123:${ID.toUpperCase()}`)],
      ['id with non-hex characters', b64('123:zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz')],
      ['negative score', b64(`-1:${ID}`)],
      ['fractional score', b64(`1.5:${ID}`)],
      ['exponent score', b64(`1e3:${ID}`)],
      ['huge score (17 digits)', b64(`12345678901234567:${ID}`)],
      ['enormous score', b64(`${'9'.repeat(400)}:${ID}`)],
      ['extra field', b64(`1:${ID}:x`)],
      ['another part letter', b64(`o1:${ID}`)],
      ['part letter twice', b64(`ff1:${ID}`)],
      ['uppercase part letter', b64(`F1:${ID}`)],
      ['part letter after the score', b64(`1f:${ID}`)],
      ['leading whitespace', b64(` 1:${ID}`)],
      ['trailing newline', b64(`1:${ID}\n`)],
    ])('%s', (_name, text) => {
      expect(decodeCursor(text)).toBeUndefined();
    });
  });
});
