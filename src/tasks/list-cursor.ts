import { ListCursor } from '../queue/task.model';
import { TASK_ID_PATTERN } from '../queue/task-id';

/**
 * Cursors are opaque to clients: base64url of "<score>:<id>" in the open part of a listing, of
 * "f<score>:<id>" in the finished part. The open part's form is the only one cursors had before the
 * finished part existed, so such a cursor still works: it continues the open part, then the whole
 * finished part follows (a task may be listed twice, none is skipped).
 */
export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(`${cursor.finished ? 'f' : ''}${cursor.score}:${cursor.id}`, 'utf8').toString('base64url');
}

/** Returns undefined for anything that was not produced by encodeCursor. */
export function decodeCursor(text: string): ListCursor | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const match = /^(f?)(\d{1,16}):(.{22,101})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!match || !TASK_ID_PATTERN.test(match[3])) return undefined;
  const score = Number(match[2]);
  // Scores are epoch milliseconds; beyond 2^53 a score would not survive the round trip exactly.
  if (!Number.isSafeInteger(score)) return undefined;
  return match[1] ? { score, id: match[3], finished: true } : { score, id: match[3] };
}
