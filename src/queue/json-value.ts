/** Any value JSON can write: what a payload or a result of a JSON task type may be. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Marks a stored `payload` or `result` field as JSON text. A string is stored as it is, so the five demo
 * types' payloads and results stay byte for byte what they were, and a task costs no extra field or
 * Lua work; any other value, and a string that itself begins with the mark, is stored as the mark
 * followed by its JSON text. U+0001 is a control character no text payload starts with in practice,
 * and one that does round-trips all the same (as JSON).
 */
export const JSON_MARK = '\u0001';

export function encodeJsonValue(value: JsonValue): string {
  if (typeof value === 'string' && !value.startsWith(JSON_MARK)) return value;
  return JSON_MARK + JSON.stringify(value);
}

/** The value a field stored by encodeJsonValue holds (a field written as plain text before is that string). */
export function decodeJsonValue(stored: string): JsonValue {
  if (!stored.startsWith(JSON_MARK)) return stored;
  try {
    return JSON.parse(stored.slice(1)) as JsonValue;
  } catch {
    // Not written by encodeJsonValue: the text as it is.
    return stored;
  }
}

/**
 * A handler's return value as stored in `result`: as encodeJsonValue, undefined (and what JSON cannot
 * write: a function, a symbol) as the empty string.
 */
export function encodeResult(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return encodeJsonValue(value);
  const json = JSON.stringify(value) as string | undefined;
  return json === undefined ? '' : JSON_MARK + json;
}
