import { ListCursor } from '../queue/task.model';
import { TASK_ID_PATTERN } from '../queue/task-id';

/** Cursors are opaque to clients: base64url of "<score>:<id>". */
export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(`${cursor.score}:${cursor.id}`, 'utf8').toString('base64url');
}

/** Returns undefined for anything that was not produced by encodeCursor. */
export function decodeCursor(text: string): ListCursor | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const match = /^(\d{1,16}):(.{22,101})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!match || !TASK_ID_PATTERN.test(match[2])) return undefined;
  const score = Number(match[1]);
  // Scores are epoch milliseconds; beyond 2^53 a score would not survive the round trip exactly.
  return Number.isSafeInteger(score) ? { score, id: match[2] } : undefined;
}
