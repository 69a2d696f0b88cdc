/**
 * With COMPACT_COMPLETED_TASKS=true a completed task is stored compact (lua/lib/common.lua compact_z): the
 * fields every task has are packed into one field `z`, the payload is `p` (a large one may stay
 * `payload`: COMPACT_PAYLOAD_MAX_CHARS), the result `o`, other fields
 * keep their names, and there is no `status` (a hash with `z` is completed). This reads such a hash as the full form, so every reader
 * of task hashes (parseTaskHash, the attempt history, the integrity check) sees one layout.
 *
 *   z = created_at|updated_at|started_at|attempts|retries|max_retry|started|<bytes of worker>|<worker><type>
 *
 * created_at in epoch ms, updated_at in ms after it, started_at in ms before updated_at (before created_at
 * without updated_at); started '' when it equals attempts, '-' when absent; '' for any other field the task
 * does not have; the worker measured in UTF-8 bytes, the type last (it may hold any character). Keep the
 * Lua and TypeScript sides alike.
 */
const PACKED = /^([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|([^|]*)\|/;

/** Whether a task hash (field -> value) is a compact completed task. */
export function isCompactTaskHash(h: Record<string, string>): boolean {
  return h.z !== undefined;
}

/** The full form of a task hash: a compact completed task's fields unpacked, any other hash as it is. */
export function expandTaskHash(h: Record<string, string>): Record<string, string> {
  if (h.z === undefined) return h;
  const { z, p, o, ...rest } = h;
  const out: Record<string, string> = { ...rest, status: 'completed' };
  if (p !== undefined) out.payload = p;
  if (o !== undefined) out.result = o;
  const m = PACKED.exec(z);
  if (!m) return out;
  const [head, createdAt, updated, started, attempts, retries, maxRetry, startedToken, workerBytes] = m;
  const created = createdAt === '' ? 0 : Number(createdAt);
  const set = (name: string, value: string) => {
    if (value !== '') out[name] = value;
  };
  set('created_at', createdAt);
  const updatedAt = updated === '' ? undefined : created + Number(updated);
  if (updatedAt !== undefined) out.updated_at = String(updatedAt);
  if (started !== '') out.started_at = String((updatedAt ?? created) - Number(started));
  set('attempts', attempts);
  set('retries', retries);
  set('max_retry', maxRetry);
  if (startedToken === '') set('started', attempts);
  else if (startedToken !== '-') out.started = startedToken;
  // The worker is measured in bytes (Lua's #): cut the tail as bytes, then read both parts as text.
  const tail = Buffer.from(z.slice(head.length), 'utf8');
  const bytes = workerBytes === '' ? 0 : Number(workerBytes);
  if (workerBytes !== '') out.worker = tail.subarray(0, bytes).toString('utf8');
  out.type = tail.subarray(bytes).toString('utf8');
  return out;
}

const PACKED_FIELDS = new Set(['status', 'type', 'payload', 'result', 'created_at', 'updated_at', 'started_at', 'attempts', 'retries', 'max_retry', 'started', 'worker', 'h_attempt', 'h_outcome', 'h_ended_at', 'h_error']);

/** The compact form of a completed task's full hash, as finish stores it (for tools and tests). */
export function compactTaskHash(h: Record<string, string>): Record<string, string> {
  const created = h.created_at === undefined || h.created_at === '' ? 0 : Number(h.created_at);
  const updated = h.updated_at === undefined ? undefined : Number(h.updated_at);
  const worker = h.worker;
  const z = [
    h.created_at ?? '',
    updated === undefined ? '' : String(updated - created),
    h.started_at === undefined ? '' : String((updated ?? created) - Number(h.started_at)),
    h.attempts ?? '',
    h.retries ?? '',
    h.max_retry ?? '',
    h.started === undefined ? '-' : h.started === h.attempts ? '' : h.started,
    worker === undefined ? '' : String(Buffer.byteLength(worker, 'utf8')),
  ].join('|');
  const out: Record<string, string> = { z: `${z}|${worker ?? ''}${h.type ?? ''}`, p: h.payload ?? '', o: h.result ?? '' };
  for (const [name, value] of Object.entries(h)) if (!PACKED_FIELDS.has(name)) out[name] = value;
  return out;
}
