import { ListCursor } from '../queue/task.model';

/** Cursors are opaque to clients: base64url of "<score>:<id>". */
export function encodeCursor(cursor: ListCursor): string {
  return Buffer.from(`${cursor.score}:${cursor.id}`, 'utf8').toString('base64url');
}

/** Returns undefined for anything that was not produced by encodeCursor. */
export function decodeCursor(text: string): ListCursor | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(text)) return undefined;
  const match = /^(\d{1,16}):([0-9a-f-]{36})$/.exec(Buffer.from(text, 'base64url').toString('utf8'));
  if (!match) return undefined;
  return { score: Number(match[1]), id: match[2] };
}
