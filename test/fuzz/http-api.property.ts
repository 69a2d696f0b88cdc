/**
 * A reusable fast-check model of hostile HTTP traffic against the service, and the property every
 * response must satisfy. Used by test/fuzz.e2e-spec.ts (a few hundred cases in `npm test`) and by
 * scripts/fuzz.ts (`npm run fuzz`, thousands of cases).
 *
 * Two kinds of traffic, mixed in bursts of 1..4 exchanges sent concurrently:
 * - requests through node:http (keep-alive), so paths with `..` or `%`-escapes, methods, content
 *   types, encodings and bodies reach the server byte for byte, unnormalised: task bodies with mutated
 *   fields, random JSON, deep and wide nesting, huge numbers, NUL and lone surrogates, `__proto__` /
 *   `constructor` / `prototype` keys, very long strings, batches, oversized and gzip-bomb bodies, and
 *   garbage query strings. Paths may name tasks created earlier in the run (`{known:n}`), so GET and
 *   DELETE also hit real tasks, pending or running;
 * - raw bytes on a fresh TCP connection (`malformedHttp`): request smuggling attempts (CL.TE, TE.CL,
 *   duplicate lengths), broken request lines and headers, bytes outside ASCII, pipelining.
 *
 * Property of every response: status 2xx or 4xx, never 5xx, never a hang or a dropped connection; a
 * JSON body (except HEAD, 204, and Node's own bodiless 400/408/413/417/431 for bytes its parser
 * refuses); errors are `{statusCode, error, message}` with statusCode equal to the status; every task
 * in a 2xx body is in a possible state; never more answers than requests on a connection. After a
 * run, `verifyAfterRun` checks that the process is still healthy, the queue drains, the invariant
 * checker (QueueIntegrityChecker) reports zero violations, every key that mentions the run's unique
 * prefix is under the queue base, every accepted task is finished and stored as accepted (or was
 * deleted by a 204, or is one of the finished tasks the bulk deletes, `DELETE /tasks?status=` answered
 * 202 `{deleted: n}`, removed: no more gone than they counted), and Object.prototype was not polluted.
 */
import { INestApplication } from '@nestjs/common';
import fc from 'fast-check';
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { QueueIntegrityChecker, IntegrityReport } from '../../src/queue/queue-integrity.checker';
import { queueRegistryKey } from '../../src/queue/queue-keys';
import { QueueRepository } from '../../src/queue/queue.repository';
import { RedisConnections } from '../../src/queue/redis-connections';
import { TASK_STATUSES } from '../../src/queue/task.model';
import { UUID_ID_PATTERN } from '../../src/queue/task-id';
import { createTestApp, TestApp } from '../support/test-app';
import { waitFor } from '../support/wait';

// ---------------------------------------------------------------------------------------------
// The request model
// ---------------------------------------------------------------------------------------------

export interface HostileRequest {
  /** What kind of traffic this is, for the run summary. */
  kind: string;
  method: string;
  /** Path and query as sent; `{known:n}` / `{KNOWN:n}` name the n-th task created so far (lower/upper case). */
  path: string;
  headers: Record<string, string>;
  body?: Buffer;
  /** Send the body with Transfer-Encoding: chunked, in two writes. */
  chunked: boolean;
}

export const KNOWN_TYPES = ['echo', 'reverse', 'sum', 'slow', 'flaky'] as const;
const RANDOM_UUID = '3b241101-e2bb-4255-8caf-4136c566a962';
/** Longest request target the model sends; with its headers it stays below Node's 16 KiB limit. */
const MAX_TARGET = 8000;

const jstr = (s: string): string => JSON.stringify(s);
/** A JSON string literal with every character written as a \u escape ("echo" -> "\u0065\u0063..."). */
const escapeAll = (s: string): string =>
  `"${[...Array(s.length).keys()].map((i) => `\\u${s.charCodeAt(i).toString(16).padStart(4, '0')}`).join('')}"`;

/** Single characters that tend to break things: NUL, lone surrogates, BOM, RTL override, quotes. */
const nastyChar = fc.constantFrom(
  '\u0000', '\ud800', '\udbff', '\udc00', '\udfff', '\ud83d', '\ude00', '\uffff', '\ufffe', '\ufeff',
  '\u202e', '\u2028', '\u2029', '\u0085', '\u001b', '"', '\\', '/', '\n', '\r', '\t', '%', '{', '}',
  '[', ']', ':', '*', '?', '&', '=', '#', '😀', 'é', 'Ω', '中', '\u0301',
);
const anyChar = fc.oneof(
  { weight: 3, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: nastyChar },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
);
/** Short strings full of NUL, lone surrogates and other trouble. */
const nastyString = (maxLength = 40): fc.Arbitrary<string> => fc.string({ unit: anyChar, maxLength });
/** Very long strings (up to `max` UTF-16 units). */
const longString = (min: number, max: number): fc.Arbitrary<string> =>
  fc.tuple(fc.integer({ min, max }), fc.constantFrom('x', 'é', '😀', '\u0000', '\ud800', 'ab"\\')).map(([n, unit]) =>
    unit.repeat(Math.ceil(n / unit.length)).slice(0, n),
  );

/** Numbers as JSON text, including ones JSON.parse turns into Infinity, -0 or unsafe integers. */
const numberText = fc.oneof(
  fc.integer().map(String),
  fc.double().map((d) => (Number.isFinite(d) ? String(d) : '1e999')),
  fc.constantFrom(
    '0', '-0', '-0.0', '1e400', '-1e400', '1e-400', '1e21', '9007199254740993', '-9007199254740993',
    '1'.repeat(400), `0.${'0'.repeat(400)}1`, '25.0', '2.5e1', '0.0000001e8', '3.0000000000000001',
    '1E2', '-1', '26', '2.5', '4294967296', '1.7976931348623157e308',
  ),
);

const pollutingKey = fc.constantFrom('__proto__', 'constructor', 'prototype');
const objectKey = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('type', 'payload', 'max_retry', 'id', 'status', 'result', 'retries', 'attempts', 'priority') },
  { weight: 2, arbitrary: pollutingKey },
  { weight: 1, arbitrary: fc.constantFrom('toString', 'valueOf', 'hasOwnProperty', 'isAdmin', 'polluted', '', '\u0000', '__defineGetter__') },
  { weight: 2, arbitrary: nastyString(12) },
);

/** Scalars as JSON text. */
const scalarText = fc.oneof(
  fc.constantFrom('null', 'true', 'false', '""', '{}', '[]'),
  numberText,
  nastyString().map(jstr),
  fc.constantFrom(...KNOWN_TYPES).map(escapeAll),
);

/** Any JSON value as text (objects may repeat keys and use __proto__ / constructor / prototype). */
const { value: jsonText } = fc.letrec<{ value: string; array: string; object: string }>((tie) => ({
  value: fc.oneof({ depthSize: 'small', withCrossShrink: true }, scalarText, tie('array'), tie('object')),
  array: fc.array(tie('value'), { maxLength: 5 }).map((xs) => `[${xs.join(',')}]`),
  object: fc
    .array(fc.tuple(objectKey, tie('value')), { maxLength: 5 })
    .map((es) => `{${es.map(([k, v]) => `${jstr(k)}:${v}`).join(',')}}`),
}));

/** Payloads that pollute Object.prototype if some code merges them unsafely. */
const pollutionValue = fc.constantFrom(
  '{"polluted":"yes","isAdmin":true,"toString":"x","status":"completed"}',
  '{"prototype":{"polluted":"yes"}}',
  '{"__proto__":{"polluted":"yes"}}',
  'null',
  '"x"',
  '[]',
);

/** Deeply nested JSON: arrays, objects, or __proto__ chains, 33 levels up to what fits in `limit` bytes. */
const deepText = (limit: number): fc.Arbitrary<string> =>
  fc
    .constantFrom(['[', ']'], ['{"a":', '}'], ['{"__proto__":', '}'], ['{"payload":', '}'], ['[{"type":', '}]'])
    .chain(([open, close]) =>
      fc
        .integer({ min: 33, max: Math.max(33, Math.floor((limit - 100) / (open.length + close.length))) })
        .map((depth) => `${open.repeat(depth)}${open === '[' ? '1' : 'null'}${close.repeat(depth)}`),
    );

const typeText = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...KNOWN_TYPES).map(jstr) },
  { weight: 1, arbitrary: fc.constantFrom(...KNOWN_TYPES).map(escapeAll) },
  {
    weight: 2,
    arbitrary: fc
      .oneof(
        fc.constantFrom('ECHO', ' echo', 'echo ', 'echo\u0000', 'ec\u0000ho', '', 'email', 'st:pending', 'sum:x', '*', '..'),
        nastyString(),
        longString(60, 70),
        longString(1000, 20_000),
      )
      .map(jstr),
  },
  { weight: 1, arbitrary: jsonText },
);

const sumPayload = fc.oneof(
  fc.array(fc.oneof(fc.integer(), fc.double()), { maxLength: 40 }).map((xs) => `[${xs.map(String).join(', ')}]`),
  fc.constantFrom('[]', '[1, 2, 5]', '[1e308, 1e308]', '[-1e308, -1e308]', '[null]', '["1"]', '[1,', '{}', '1', '[[1]]', '[1e400]', '[-0]'),
  fc.integer({ min: 1, max: 5000 }).map((n) => `${'['.repeat(n)}1${']'.repeat(n)}`),
);
const payloadText = fc.oneof(
  { weight: 6, arbitrary: nastyString(60).map(jstr) },
  { weight: 3, arbitrary: sumPayload.map(jstr) },
  { weight: 1, arbitrary: longString(1000, 40_000).map(jstr) },
  { weight: 2, arbitrary: jsonText },
);
const maxRetryText = fc.oneof(
  { weight: 6, arbitrary: fc.integer({ min: 0, max: 25 }).map(String) },
  { weight: 3, arbitrary: numberText },
  { weight: 1, arbitrary: fc.constantFrom('"3"', 'null', 'true', '[]', '{}', '[3]', '"0x10"', '"Infinity"') },
);

/**
 * The per-task options (issue 8), valid and invalid. Valid ones never keep a task from draining: no
 * delay or run_at more than 20 ms ahead, no backoff longer than RETRY_MAX_DELAY_MS of the fuzz app.
 */
const taskOption: fc.Arbitrary<[string, string]> = fc.oneof(
  fc.tuple(fc.constant('priority'), fc.constantFrom('"high"', '"normal"', '"low"', '"HIGH"', '""', '1', 'null', '["high"]')),
  // Named queues: a few valid names (the fuzz app serves every queue) and invalid ones.
  fc.tuple(fc.constant('queue'), fc.constantFrom('"default"', '"fz-a"', '"fz_b"', '"Fz"', '"a.b"', '""', '"-x"', `"${'q'.repeat(65)}"`, '1', 'null')),
  fc.tuple(fc.constant('timeout_ms'), fc.constantFrom('1', '50', '86400000', '0', '86400001', '1.5', '"100"', 'null', '1e400')),
  fc.tuple(fc.constant('delay_ms'), fc.constantFrom('0', '1', '20', '-1', '1.5', '31536000001', '"5"', 'null', '1e400', '-0')),
  fc.tuple(
    fc.constant('run_at'),
    fc.oneof(
      fc.constantFrom('"2001-02-03T04:05:06Z"', '"2001-02-03T04:05:06.5+05:30"', '"1999-12-31t23:59z"', '"2030-02-30T00:00:00Z"'),
      fc.constantFrom('"2030-01-01T00:00:00"', '"2999-01-01T00:00:00Z"', '"tomorrow"', '""', '1800000000000', 'null', '{}'),
      fc.integer({ min: -1000, max: 20 }).map((ms) => jstr(new Date(Date.now() + ms).toISOString())),
    ),
  ),
  fc.tuple(
    fc.constant('backoff'),
    fc.constantFrom(
      '{}', '{"type":"fixed","delay_ms":1}', '{"type":"exponential","delay_ms":5,"max_delay_ms":20,"jitter":true}', '{"max_delay_ms":3}',
      '{"type":"linear"}', '{"delay_ms":0}', '{"delay_ms":9,"max_delay_ms":8}', '{"jitter":"yes"}', '{"extra":1}', '{"toString":1}',
      '{"__proto__":{"polluted":"yes"}}', '{"constructor":{"prototype":{"polluted":1}}}', '[]', 'null', '"fixed"', '{"type":"fixed","type":"nope"}',
    ),
  ),
  fc.tuple(fc.constant('idempotency_key'), fc.oneof(fc.constantFrom('"k1"', '"k2"', '"k3"', '""', '5', 'null', jstr('x'.repeat(256)), '"caf\u00e9"'), nastyString(10).map(jstr))),
);

/** An object that is often a valid task, with fields dropped, mutated, repeated or polluted. */
const taskObjectText = fc
  .record({
    type: fc.option(typeText, { freq: 10, nil: undefined }),
    payload: fc.option(payloadText, { freq: 2, nil: undefined }),
    maxRetry: fc.option(maxRetryText, { freq: 2, nil: undefined }),
    options: fc.oneof(
      { weight: 3, arbitrary: fc.constant<Array<[string, string]>>([]) },
      { weight: 2, arbitrary: fc.array(taskOption, { minLength: 1, maxLength: 3 }) },
    ),
    extra: fc.oneof(
      { weight: 6, arbitrary: fc.constant<Array<[string, string]>>([]) },
      { weight: 2, arbitrary: fc.array(fc.tuple(pollutingKey, pollutionValue), { minLength: 1, maxLength: 2 }) },
      { weight: 1, arbitrary: fc.array(fc.tuple(objectKey, jsonText), { minLength: 1, maxLength: 3 }) },
    ),
    reversed: fc.boolean(),
  })
  .map(({ type, payload, maxRetry, options, extra, reversed }) => {
    const entries: string[] = [];
    if (type !== undefined) entries.push(`"type":${type}`);
    if (payload !== undefined) entries.push(`"payload":${payload}`);
    if (maxRetry !== undefined) entries.push(`"max_retry":${maxRetry}`);
    for (const [k, v] of options) entries.push(`${jstr(k)}:${v}`);
    for (const [k, v] of extra) entries.push(`${jstr(k)}:${v}`);
    if (reversed) entries.reverse();
    return `{${entries.join(',')}}`;
  });

const batchText = fc.oneof(
  { weight: 8, arbitrary: fc.array(taskObjectText, { minLength: 1, maxLength: 12 }).map((xs) => `[${xs.join(',')}]`) },
  { weight: 1, arbitrary: fc.constant('[]') },
  { weight: 1, arbitrary: fc.integer({ min: 999, max: 1002 }).map((n) => `[${Array(n).fill('{"type":"echo"}').join(',')}]`) },
  { weight: 1, arbitrary: fc.array(jsonText, { maxLength: 5 }).map((xs) => `[${xs.join(',')}]`) },
);

interface BodySpec {
  kind: string;
  text?: string;
  bytes?: Buffer;
}

/** Corrupts a body: bytes replaced with invalid UTF-8, NUL or random bytes, or text cut short. */
const corruption = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.record({
      at: fc.array(fc.tuple(fc.nat(), fc.constantFrom(0x00, 0xff, 0xc0, 0x80, 0xed, 0xfe, 0x22, 0x5c, 0x7b)), { minLength: 1, maxLength: 4 }),
      cut: fc.option(fc.nat(), { nil: undefined }),
      bom: fc.boolean(),
    }),
  },
);

type Corruption = { at: Array<[number, number]>; cut?: number; bom: boolean } | undefined;

const applyCorruption = (text: string, c: Corruption): Buffer => {
  let buf = Buffer.from(text, 'utf8');
  if (!c) return buf;
  buf = Buffer.from(buf);
  for (const [pos, byte] of c.at) if (buf.length > 0) buf[pos % buf.length] = byte;
  if (c.cut !== undefined && buf.length > 0) buf = buf.subarray(0, c.cut % buf.length);
  if (c.bom) buf = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), buf]);
  return buf;
};

/** Request bodies; `limit` is the app's BODY_LIMIT in bytes, so some bodies are just over it. */
const bodySpec = (limit: number): fc.Arbitrary<BodySpec> =>
  fc.oneof(
    { weight: 10, arbitrary: taskObjectText.map((text) => ({ kind: 'task', text })) },
    { weight: 3, arbitrary: batchText.map((text) => ({ kind: 'batch', text })) },
    { weight: 3, arbitrary: jsonText.map((text) => ({ kind: 'json', text })) },
    {
      weight: 2,
      arbitrary: deepText(limit).map((deep) => ({ kind: 'deep', text: deep })),
    },
    {
      weight: 2,
      arbitrary: fc
        .tuple(fc.constantFrom('type', 'payload', 'max_retry', 'extra'), deepText(limit))
        .map(([field, deep]) => ({ kind: 'deep-field', text: field === 'type' ? `{"type":${deep}}` : `{"type":"echo","${field}":${deep}}` })),
    },
    { weight: 1, arbitrary: numberText.map((text) => ({ kind: 'number', text })) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 10, max: 12_000 }), fc.constantFrom('top', 'payload', 'array', 'batch'))
        .map(([n, where]) => {
          const keys = Array.from({ length: n }, (_, i) => `"k${i}":${i}`).join(',');
          const text =
            where === 'top'
              ? `{"type":"echo",${keys}}`
              : where === 'payload'
                ? `{"type":"echo","payload":{${keys}}}`
                : where === 'array'
                  ? `{"type":"sum","payload":[${Array(n).fill('1').join(',')}]}`
                  : `[${Array(Math.min(n, 1000)).fill(`{"type":"echo",${keys.slice(0, 200).replace(/,[^,]*$/, '')}}`).join(',')}]`;
          return { kind: 'wide', text };
        }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: 1, max: Math.ceil(limit / 2) }), fc.constantFrom('task', 'batch', 'whitespace'))
        .map(([over, shape]) => {
          const size = limit + over;
          const text =
            shape === 'task'
              ? `{"type":"echo","payload":"${'y'.repeat(size)}"}`
              : shape === 'batch'
                ? `[${Array(Math.ceil(size / 16)).fill('{"type":"echo"}').join(',')}]`
                : `${' '.repeat(size)}{"type":"echo"}`;
          return { kind: 'oversize', text };
        }),
    },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        '{"type":"echo"}{"type":"echo"}',
        '{"type":"echo",}',
        "{'type':'echo'}",
        '{"type":"echo"',
        '\u0000',
        'null',
        'undefined',
        'NaN',
        '{"type":"echo","payload":"\\ud800"}',
        '{"type":"echo","payload":"\\u0000"}',
        '{"type":"echo","payload":"\\x41"}',
        '{"type":"echo","payload":"\u0000"}',
        '{"type":"reverse","payload":"\\udc00\\ud800x\\ud83d"}',
        '{"type":"echo","type":"nope"}',
        '{"type":"nope","type":"echo"}',
        '{"__proto__":{"type":"echo"}}',
        '{"constructor":{"prototype":{"polluted":1}},"type":"echo"}',
        '[{"__proto__":{"polluted":1},"type":"echo"}]',
        'type=echo&payload=x',
        '--x\r\nContent-Disposition: form-data; name="type"\r\n\r\necho\r\n--x--',
      ).map((text) => ({ kind: 'malformed', text })),
    },
    {
      weight: 1,
      arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ kind: 'bytes', bytes: Buffer.from(bytes) })),
    },
    { weight: 2, arbitrary: fc.constant({ kind: 'none' }) },
  );

/** Content types: mostly JSON, also charsets body-parser rejects, forms, garbage and none. */
const contentType = fc.oneof(
  { weight: 10, arbitrary: fc.constant('application/json') },
  {
    weight: 4,
    arbitrary: fc.constantFrom(
      'application/json; charset=utf-8',
      'APPLICATION/JSON',
      'application/json;charset=UTF-8',
      'application/json; charset=latin1',
      'application/json; charset=utf-16le',
      'application/json; charset=bogus',
      'application/json; charset="utf-8"; boundary=x',
      'application/merge-patch+json',
      'application/vnd.api+json',
      'text/plain',
      'text/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      '*/*',
      'application/*',
      'application/json, text/plain',
      'json',
      ';',
      '',
    ),
  },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }) },
  { weight: 3, arbitrary: fc.constant(undefined) },
);

const contentEncoding = fc.oneof(
  { weight: 12, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom('gzip', 'deflate', 'br', 'identity', 'x-bogus', 'gzip, gzip', 'GZIP') },
);

/** Idempotency-Key values: a small pool (so repeats, replays and conflicts happen), and bad ones. */
const idempotencyHeader = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('k1', 'k2', 'k3', 'order {1}', ' spaced ') },
  { weight: 1, arbitrary: fc.constantFrom('', 'x'.repeat(256), 'caf\u00e9', '\u00ff') },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 30 }) },
);

const extraHeaders = fc.oneof(
  { weight: 6, arbitrary: fc.constant<Record<string, string>>({}) },
  { weight: 2, arbitrary: idempotencyHeader.map((key) => ({ 'idempotency-key': key })) },
  {
    weight: 1,
    arbitrary: fc
      .array(
        fc.tuple(
          fc.constantFrom('accept', 'accept-charset', 'accept-encoding', 'x-forwarded-for', 'x-request-id', 'cookie', 'authorization', 'origin', 'x-http-method-override', 'if-none-match', 'range', 'x-a'),
          fc.oneof(fc.string({ unit: 'grapheme-ascii', maxLength: 60 }), longString(1000, 2000).map((s) => s.replace(/[^\x20-\x7e]/g, 'x'))),
        ),
        { maxLength: 3 },
      )
      .map((pairs) => Object.fromEntries(pairs)),
  },
);

/** Percent-encodes any byte; keeps unreserved ASCII as it is. */
const pct = (bytes: Buffer): string =>
  [...bytes].map((b) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(b)) ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`)).join('');
const pctText = (s: string): string => pct(Buffer.from(s, 'utf8'));

/**
 * Raw request-target characters: printable ASCII (0x21..0x7e) except the placeholder braces. Bytes
 * above 0x7e and controls are rejected by Node's HTTP parser before the app sees the request; those
 * are covered by the raw-protocol model below (`malformedHttp`).
 */
const rawPathChar = fc.oneof(
  fc.constantFrom('/', '.', '%', '?', '#', ';', ',', '@', '+', '!', '$', "'", '(', ')', '*', '~', '\\', '"', '<', '>', '^', '`', '|', '[', ']'),
  fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)).filter((c) => c !== '{' && c !== '}'),
  fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }).filter((c) => /[A-Za-z0-9]/.test(c)),
);

/** What goes after /tasks/: real ids, UUIDs, junk, traversal, encodings, very long ids. */
const idSegment = fc.oneof(
  { weight: 6, arbitrary: fc.nat(10_000).map((n) => `{known:${n}}`) },
  { weight: 1, arbitrary: fc.nat(10_000).map((n) => `{KNOWN:${n}}`) },
  { weight: 2, arbitrary: fc.uuid() },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      '%FF', '%', '%%', '%zz', '%u0041', '%00', '%2e%2e', '..', '.', '../..', '..%2F..%2Fhealth', '..%2f', '%2F',
      'batch', 'BATCH', 'batch%00', 'not-a-uuid', `${RANDOM_UUID}x`, RANDOM_UUID.toUpperCase(), `${RANDOM_UUID}%00`,
      "1'%20OR%201=1", '%E2%80%AE', '%ED%A0%80', '%C0%AF', '%EF%BB%BF', `${RANDOM_UUID}/..`, `x/${RANDOM_UUID}`,
      '__proto__', 'constructor', 'prototype', 'hasOwnProperty', '*', ';', '%3B', '?', '#',
    ),
  },
  { weight: 2, arbitrary: nastyString(30).map(pctText) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => pct(Buffer.from(b))) },
  { weight: 1, arbitrary: fc.string({ unit: rawPathChar, maxLength: 30 }) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 7000 }).map((n) => 'a'.repeat(n)) },
);

/** Query values: valid ones, garbage, encodings, long strings, pollution keys, repeats. */
const queryKey = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('status', 'type', 'limit', 'cursor') },
  { weight: 2, arbitrary: fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'a[b]', 'status[]', 'limit[0]', '', 'offset', 'page') },
  { weight: 1, arbitrary: nastyString(10).map(pctText) },
);
const queryValue = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...TASK_STATUSES, ...KNOWN_TYPES) },
  { weight: 3, arbitrary: fc.oneof(fc.integer({ min: -5, max: 1005 }).map(String), fc.constantFrom('1e3', '0x10', '+5', '%205', '5%20', '%2B5', '1.0', '99999999', '', 'NaN', 'Infinity', '00010', '5%00')) },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.base64String({ maxLength: 80 }),
      fc.tuple(fc.bigInt({ min: 0n, max: 10n ** 20n }), fc.uuid()).map(([s, id]) => Buffer.from(`${s}:${id}`).toString('base64url')),
      fc.constantFrom('MTc5NTgzNTIxMjc2NTozNDI2ZDNhYy1hNzlhLTQ3OTUtYWNhZS02NWQwYjBjNzc0YjU', '%00', '%FF', 'PENDING', 'st:pending:echo'),
    ),
  },
  { weight: 2, arbitrary: nastyString(20).map(pctText) },
  { weight: 1, arbitrary: fc.string({ unit: rawPathChar, maxLength: 20 }).map((s) => s.replace(/[#&]/g, '')) },
  { weight: 1, arbitrary: longString(200, 3000).map(pctText) },
);
const queryString = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  {
    weight: 6,
    arbitrary: fc
      .array(fc.tuple(queryKey, fc.option(queryValue, { freq: 8, nil: undefined })), { minLength: 1, maxLength: 4 })
      .map((pairs) => `?${pairs.map(([k, v]) => (v === undefined ? k : `${k}=${v}`)).join('&')}`),
  },
  { weight: 1, arbitrary: fc.constantFrom('?', '??', '?&&&', '?=', '?=x', '?&status=', '?status=pending&status=failed', '?limit=1&limit=2', '?%', '?limit=%', '?cursor') },
);

const basePath = fc.constantFrom(
  '/tasks', '/tasks', '/tasks', '/tasks/', '/tasks/batch', '/tasks/batch/', '/TASKS', '/Tasks/Batch', '//tasks', '/tasks//', '/tasks/%62atch',
  '/tasks/./batch', '/tasks/../tasks', '/./tasks', '/health', '/health/live', '/health/ready', '/health/..', '/health/%2e%2e/tasks',
  '/', '*', '/favicon.ico', '/tasks.json', '/tasks;x', '/tasks%2F', '/%74asks', '/api/tasks', '/tasks?', '/tasks#x',
);

const anyPath = fc.oneof(
  { weight: 3, arbitrary: fc.tuple(basePath, queryString).map(([p, q]) => `${p}${q}`) },
  { weight: 3, arbitrary: fc.tuple(idSegment, queryString).map(([id, q]) => `/tasks/${id}${q.length > 1 ? q : ''}`) },
  { weight: 1, arbitrary: fc.tuple(idSegment, idSegment).map(([a, b]) => `/tasks/${a}/${b}`) },
  { weight: 1, arbitrary: fc.string({ unit: rawPathChar, maxLength: 60 }).map((s) => `/${s}`) },
);

const anyMethod = fc.oneof(
  { weight: 10, arbitrary: fc.constantFrom('GET', 'POST', 'DELETE') },
  { weight: 3, arbitrary: fc.constantFrom('PUT', 'PATCH', 'HEAD', 'OPTIONS') },
  { weight: 1, arbitrary: fc.constantFrom('TRACE', 'PROPFIND', 'PURGE', 'SEARCH', 'LOCK', 'MKCOL', 'COPY', 'MOVE', 'REPORT', 'LINK', 'UNLINK', 'QUERY', 'SOURCE') },
);

interface Shape {
  kind: string;
  method: fc.Arbitrary<string>;
  path: fc.Arbitrary<string>;
  body: boolean;
}

const SHAPES: Array<{ weight: number; shape: Shape }> = [
  { weight: 8, shape: { kind: 'submit', method: fc.constant('POST'), path: fc.constantFrom('/tasks', '/tasks', '/tasks/batch', '/tasks/', '/tasks/batch/', '/TASKS', '/tasks?x=1'), body: true } },
  { weight: 3, shape: { kind: 'get-task', method: fc.constantFrom('GET', 'GET', 'HEAD'), path: idSegment.map((id) => `/tasks/${id}`), body: false } },
  { weight: 3, shape: { kind: 'delete-task', method: fc.constant('DELETE'), path: idSegment.map((id) => `/tasks/${id}`), body: false } },
  { weight: 4, shape: { kind: 'list', method: fc.constant('GET'), path: queryString.map((q) => `/tasks${q}`), body: false } },
  { weight: 4, shape: { kind: 'random', method: anyMethod, path: anyPath, body: true } },
];

/** One hostile request; `bodyLimitBytes` is the app's BODY_LIMIT so some bodies land just above it. */
export function hostileRequest({ bodyLimitBytes }: { bodyLimitBytes: number }): fc.Arbitrary<HostileRequest> {
  return fc
    .oneof(...SHAPES.map(({ weight, shape }) => ({ weight, arbitrary: fc.constant(shape) })))
    .chain((shape) =>
      fc.record({
        shape: fc.constant(shape),
        method: shape.method,
        path: shape.path,
        body: shape.body ? bodySpec(bodyLimitBytes) : fc.oneof({ weight: 8, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) }, { weight: 1, arbitrary: bodySpec(bodyLimitBytes) }),
        corrupt: corruption,
        contentType: shape.body ? contentType : fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: contentType }),
        encoding: contentEncoding,
        headers: extraHeaders,
        chunked: fc.boolean(),
      }),
    )
    .map(({ shape, method, path, body, corrupt, contentType: ct, encoding, headers, chunked }) => {
      const headerSet: Record<string, string> = { ...headers };
      if (ct !== undefined) headerSet['content-type'] = ct;
      let bytes = body.bytes ?? (body.text !== undefined ? applyCorruption(body.text, corrupt) : undefined);
      let kind = `${shape.kind}/${body.kind}`;
      if (encoding !== undefined && bytes !== undefined) {
        headerSet['content-encoding'] = encoding;
        if (encoding.toLowerCase().startsWith('gzip')) bytes = gzipSync(bytes);
        kind += `+${encoding}`;
      }
      // Request line and headers stay under Node's 16 KiB header limit (431 is tested in hostile-clients).
      const target = path.length > MAX_TARGET ? path.slice(0, MAX_TARGET) : path;
      return withSummary({ kind, method, path: target, headers: headerSet, body: bytes, chunked: chunked && bytes !== undefined && bytes.length > 0 });
    });
}

/** A gzip bomb: a small compressed body that inflates far beyond BODY_LIMIT. */
export function gzipBomb(): fc.Arbitrary<HostileRequest> {
  return fc.integer({ min: 2, max: 8 }).map((mb) =>
    withSummary({
      kind: 'submit/gzip-bomb',
      method: 'POST',
      path: '/tasks',
      headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
      body: gzipSync(Buffer.from(`{"type":"echo","payload":"${'0'.repeat(mb * 1024 * 1024)}"}`)),
      chunked: false,
    }),
  );
}

/** A burst of requests sent at once (the unit of one fast-check case). */
// ---------------------------------------------------------------------------------------------
// Malformed HTTP: bytes on a raw socket
// ---------------------------------------------------------------------------------------------

/**
 * Bytes written on a raw TCP connection: broken framing, request smuggling attempts, bad request
 * lines and headers, pipelining. Node's HTTP parser rejects most of these before the app runs, with
 * a bodiless 400/408/413/417/431 and a closed connection; what reaches the app must get JSON.
 */
export interface RawExchange {
  kind: string;
  raw: Buffer;
  /** Requests in `raw` the app should answer; the exchange ends once that many answers arrived. */
  requests: number;
  /**
   * The bytes are complete requests: wait for their answers (or the server closing the connection).
   * Otherwise the server may be waiting for more, so the client half-closes after 250 ms of silence;
   * then the server must answer with a 4xx, or close without an answer only where it had a complete
   * request head to refuse (e.g. CONNECT) or was sent nothing at all.
   */
  complete: boolean;
}

const CRLF = '\r\n';
const rawExchange = (kind: string, text: string | Buffer, requests = 1, complete = false): RawExchange => {
  const r: RawExchange = { kind: `raw/${kind}`, raw: typeof text === 'string' ? Buffer.from(text, 'latin1') : text, requests, complete };
  Object.defineProperty(r, fc.toStringMethod, {
    enumerable: false,
    value: () => `RAW [${r.kind}] ${JSON.stringify(r.raw.subarray(0, 400).toString('latin1'))}${r.raw.length > 400 ? '...' : ''}`,
  });
  return r;
};
const head = (lines: string[]): string => `${lines.join(CRLF)}${CRLF}${CRLF}`;
const TASK_JSON = '{"type":"echo","payload":"raw"}';

const smuggling = fc.constantFrom(
  // CL.TE and TE.CL: both framings at once must be refused, never parsed two ways.
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 4', 'Transfer-Encoding: chunked']) + `0${CRLF}${CRLF}GET /health HTTP/1.1${CRLF}Host: x${CRLF}${CRLF}`,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Transfer-Encoding: chunked', 'Content-Length: 40']) + `1f${CRLF}${TASK_JSON}${CRLF}0${CRLF}${CRLF}`,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked, identity']) + `1f${CRLF}${TASK_JSON}${CRLF}0${CRLF}${CRLF}`,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: xchunked']) + `1f${CRLF}${TASK_JSON}${CRLF}0${CRLF}${CRLF}`,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked', 'Transfer-Encoding: identity']) + `1f${CRLF}${TASK_JSON}${CRLF}0${CRLF}${CRLF}`,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 31', 'Content-Length: 5']) + TASK_JSON,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 31, 31']) + TASK_JSON,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: -1']) + TASK_JSON,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 99999999999999999999']) + TASK_JSON,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 0x1f']) + TASK_JSON,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length : 31']) + TASK_JSON,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked']) + `zz${CRLF}${TASK_JSON}${CRLF}0${CRLF}${CRLF}`,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked']) + `FFFFFFFFFFFFFFFFF${CRLF}x${CRLF}`,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked']) + `1f;${'x'.repeat(20_000)}${CRLF}${TASK_JSON}${CRLF}0${CRLF}${CRLF}`,
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked']) + `1f\n${TASK_JSON}\n0\n\n`,
);

/** Odd but complete requests Node accepts: the app must answer each, with JSON. */
const oddButComplete = fc.constantFrom(
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked']) + `1f${CRLF}${TASK_JSON}${CRLF}0${CRLF}Trailer: x${CRLF}${CRLF}`,
  head(['GET /tasks HTTP/1.1', 'Host: x', 'Host: y']),
  head(['GET http://evil.example/tasks HTTP/1.1', 'Host: x']),
  head(['GET //evil.example/tasks HTTP/1.1', 'Host: x']),
  head(['OPTIONS * HTTP/1.1', 'Host: x']),
  head(['GET /tasks HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==', 'Sec-WebSocket-Version: 13']),
  head(['GET /tasks HTTP/1.1', 'Host: x', 'Upgrade: h2c', 'Connection: Upgrade, HTTP2-Settings', 'HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA']),
  head(['GET /tasks HTTP/1.1', 'Host: x', 'Expect: 100-continue']),
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', `Content-Length: ${TASK_JSON.length}`, 'Expect: 100-continue']) + TASK_JSON,
  head(['GET /tasks HTTP/1.1', 'Host: x', `X-${'a'.repeat(200)}: 1`]),
  `${CRLF}${CRLF}GET /health/live HTTP/1.1${CRLF}Host: x${CRLF}${CRLF}`,
  // Odd request lines Node's parser accepts (HTTP/1.0 needs no Host): answered like any request.
  head(['GET /tasks HTTP/2.0', 'Host: x']),
  head(['GET /tasks', 'Host: x']),
  head(['GET /tasks HTTP/1.0']),
);

const badHead = fc.constantFrom(
  head(['get /tasks HTTP/1.1', 'Host: x']),
  head(['FOO /tasks HTTP/1.1', 'Host: x']),
  head(['G ET /tasks HTTP/1.1', 'Host: x']),
  head(['GET /tasks HTTP/1.1 x', 'Host: x']),
  head(['GET /tasks HTTP/1.1']), // no Host
  head(['CONNECT evil.example:443 HTTP/1.1', 'Host: evil.example:443']),
  head(['PRI * HTTP/2.0', '', 'SM']),
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 31', 'Expect: bogus']) + TASK_JSON,
  head(['GET /tasks HTTP/1.1', 'Host: x', 'Bad Header: x']),
  head(['GET /tasks HTTP/1.1', 'Host: x', 'NoColon']),
  head(['GET /tasks HTTP/1.1', 'Host: x', 'X-A: 1', ' folded continuation']),
  head(['GET /tasks HTTP/1.1', 'Host: x', 'X-A: a\u0000b']),
  head(['GET /tasks HTTP/1.1', 'Host: x', 'X-A: a\rb']),
  head(['GET /tasks HTTP/1.1', 'Host: x', ': empty-name']),
  'GET /tasks HTTP/1.1\nHost: x\n\n',
  'GET /tasks HTTP/1.1\rHost: x\r\r',
  head([`GET /tasks/${'\u00e9'.repeat(10)} HTTP/1.1`, 'Host: x']),
  head(['GET /tasks/\u0001\u007f HTTP/1.1', 'Host: x']),
  head(['GET /tasks?a=\u00ff HTTP/1.1', 'Host: x']),
  head([`${'GET'.repeat(2000)} /tasks HTTP/1.1`, 'Host: x']),
  head(['GET /tasks HTTP/1.1', 'Host: x', 'Content-Length: 5']) + 'abc', // short body, then EOF
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 100']) + TASK_JSON, // short body
  head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked']) + `1f${CRLF}${TASK_JSON}${CRLF}`, // no last chunk
  'GET /tasks HTTP/1.1\r\nHost: x\r\n', // headers never end
  '',
);

/** Several complete requests in one write: each must be answered, in order, JSON. */
const pipelined = fc
  .array(
    fc.constantFrom(
      head(['GET /health/live HTTP/1.1', 'Host: x']),
      head(['GET /tasks?limit=1 HTTP/1.1', 'Host: x']),
      head(['GET /tasks/nope HTTP/1.1', 'Host: x']),
      head(['DELETE /tasks/3b241101-e2bb-4255-8caf-4136c566a962 HTTP/1.1', 'Host: x']),
      head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', `Content-Length: ${TASK_JSON.length}`]) + TASK_JSON,
      head(['POST /tasks HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Content-Length: 3']) + '{"t',
      head(['POST /tasks/batch HTTP/1.1', 'Host: x', 'Content-Type: application/json', 'Transfer-Encoding: chunked']) + `21${CRLF}[${TASK_JSON}]${CRLF}0${CRLF}${CRLF}`,
    ),
    { minLength: 2, maxLength: 6 },
  )
  .map((reqs) => rawExchange('pipelined', reqs.join(''), reqs.length, true));

export function malformedHttp(): fc.Arbitrary<RawExchange> {
  return fc.oneof(
    { weight: 3, arbitrary: smuggling.map((t) => rawExchange('smuggling', t)) },
    { weight: 4, arbitrary: badHead.map((t) => rawExchange('bad-head', t)) },
    { weight: 2, arbitrary: oddButComplete.map((t) => rawExchange('odd', t, 1, true)) },
    { weight: 3, arbitrary: pipelined },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.constantFrom('', 'GET / HTTP/1.1\r\n', 'POST /tasks HTTP/1.1\r\nHost: x\r\n'), fc.uint8Array({ maxLength: 200 }))
        .map(([prefix, bytes]) => rawExchange('bytes', Buffer.concat([Buffer.from(prefix, 'latin1'), Buffer.from(bytes)]))),
    },
  );
}

export type HostileExchange = HostileRequest | RawExchange;
const isRaw = (x: HostileExchange): x is RawExchange => 'raw' in x;

/** A burst of requests sent at once (the unit of one fast-check case). */
export function hostileBurst(options: { bodyLimitBytes: number }): fc.Arbitrary<HostileExchange[]> {
  const one = fc.oneof(
    { weight: 60, arbitrary: hostileRequest(options) as fc.Arbitrary<HostileExchange> },
    { weight: 6, arbitrary: malformedHttp() },
    { weight: 1, arbitrary: gzipBomb() },
  );
  return fc.array(one, { minLength: 1, maxLength: 4 });
}

/** Counterexamples print as one short line per request instead of 60 kB of body. */
function withSummary(r: HostileRequest): HostileRequest {
  Object.defineProperty(r, fc.toStringMethod, {
    enumerable: false,
    value: () => {
      const body = r.body === undefined ? 'no body' : `${r.body.length} B body ${JSON.stringify(r.body.subarray(0, 160).toString('latin1'))}${r.body.length > 160 ? '...' : ''}`;
      const path = r.path.length > 200 ? `${r.path.slice(0, 200)}...(${r.path.length} chars)` : r.path;
      return `${r.method} ${path} [${r.kind}] ${JSON.stringify(r.headers).slice(0, 300)} ${r.chunked ? 'chunked ' : ''}${body}`;
    },
  });
  return r;
}

export const describeRequest = (r: HostileExchange): string =>
  (r as unknown as Record<symbol, () => string>)[fc.toStringMethod]?.() ?? ('raw' in r ? r.kind : `${r.method} ${r.path}`);

// ---------------------------------------------------------------------------------------------
// Sending, and the property of one response
// ---------------------------------------------------------------------------------------------

export interface FuzzResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export interface FuzzStats {
  cases: number;
  requests: number;
  statuses: Record<string, number>;
  kinds: Record<string, number>;
  /** Ids of tasks answered with 201, in order. */
  created: string[];
  /** What the 201 said about each created task, to compare with what is stored at the end. */
  accepted: Map<string, TaskShape>;
  /** Ids named by DELETEs answered 204. */
  deleted: Set<string>;
  /**
   * Tasks removed by bulk deletes (`DELETE /tasks?status=...`, answered 202 `{ deleted: n }`): the
   * fuzzer sends one by chance, and which tasks it removed is not in the answer, only how many.
   */
  bulkDeleted: number;
}

type TaskShape = { id: string; queue?: string; type: string; payload: string; max_retry: number; priority?: string; timeout_ms?: number };

/** Lone surrogates cannot be stored as UTF-8; Redis keeps U+FFFD instead, so such payloads are not compared. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A task id as issued: 22 characters of base64url in the queue default, `<queue>.<id>` in any other. */
const TASK_ID = /^(?:([a-z0-9][a-z0-9_-]{0,63})\.)?[A-Za-z0-9_-]{22}$/;
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export class PropertyViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PropertyViolation';
  }
}

/** Checks a task as the API returns it: a possible state, consistent fields. Returns the problem, if any. */
export function taskProblem(t: unknown): string | undefined {
  if (typeof t !== 'object' || t === null || Array.isArray(t)) return 'task is not an object';
  const task = t as Record<string, unknown>;
  const id = typeof task.id === 'string' ? TASK_ID.exec(task.id) : null;
  if (!id) return `bad id ${String(task.id)}`;
  if (task.queue !== (id[1] ?? 'default')) return `task ${String(task.id)} in queue ${String(task.queue)}`;
  if (!(KNOWN_TYPES as readonly string[]).includes(task.type as string)) return `unknown type ${String(task.type)}`;
  if (typeof task.payload !== 'string') return 'payload is not a string';
  if (!(TASK_STATUSES as readonly string[]).includes(task.status as string)) return `impossible status ${String(task.status)}`;
  for (const f of ['retries', 'max_retry', 'attempts'] as const) {
    if (!Number.isSafeInteger(task[f]) || (task[f] as number) < 0) return `${f} is ${String(task[f])}`;
  }
  const retries = task.retries as number;
  const maxRetry = task.max_retry as number;
  const attempts = task.attempts as number;
  if (maxRetry > 25) return `max_retry ${maxRetry} > 25`;
  if (retries > maxRetry) return `retries ${retries} > max_retry ${maxRetry}`;
  if (retries > attempts) return `retries ${retries} > attempts ${attempts}`;
  for (const f of ['created_at', 'updated_at']) if (typeof task[f] !== 'string' || !ISO.test(task[f] as string)) return `${f} is ${String(task[f])}`;
  for (const f of ['run_at', 'started_at', 'completed_at']) {
    if (task[f] !== undefined && (typeof task[f] !== 'string' || !ISO.test(task[f] as string))) return `${f} is ${String(task[f])}`;
  }
  const terminal = task.status === 'completed' || task.status === 'failed';
  if (terminal !== (task.completed_at !== undefined)) return `${String(task.status)} task with completed_at ${String(task.completed_at)}`;
  if ((task.status === 'completed') !== (typeof task.result === 'string')) return `${String(task.status)} task with result ${String(task.result)}`;
  // Leased is not started: a prefetched task is processing before its handler starts (no started_at yet).
  if (task.status === 'processing' && attempts < 1) return 'processing task never leased';
  if (task.status === 'failed' && typeof task.error !== 'string') return 'failed task without error';
  if (task.run_at !== undefined && task.status !== 'pending') return `${String(task.status)} task with run_at`;
  // Per-task options: present only when set, never the defaults' names (normal is no field).
  if (task.priority !== undefined && task.priority !== 'high' && task.priority !== 'low') return `priority ${String(task.priority)}`;
  if (task.timeout_ms !== undefined && !(Number.isSafeInteger(task.timeout_ms) && (task.timeout_ms as number) >= 1 && (task.timeout_ms as number) <= 86_400_000)) {
    return `timeout_ms ${String(task.timeout_ms)}`;
  }
  if (task.backoff !== undefined) {
    const b = task.backoff as Record<string, unknown>;
    if (typeof b !== 'object' || b === null || (b.type !== 'exponential' && b.type !== 'fixed') || typeof b.jitter !== 'boolean') return `backoff ${JSON.stringify(b)}`;
    if (!Number.isSafeInteger(b.delay_ms) || !Number.isSafeInteger(b.max_delay_ms) || (b.delay_ms as number) < 1) return `backoff ${JSON.stringify(b)}`;
  }
  return undefined;
}

/**
 * Sends real HTTP requests to one listening server and checks each response against the property.
 * Keeps the run's statistics and the ids of the tasks it created (for `{known:n}` paths).
 */
export class HttpFuzzer {
  readonly stats: FuzzStats = { cases: 0, requests: 0, statuses: {}, kinds: {}, created: [], accepted: new Map(), deleted: new Set(), bulkDeleted: 0 };
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly requestTimeoutMs = 15_000,
  ) {}

  /** The fast-check property: a burst of hostile requests, all answered according to the contract. */
  property(options: { bodyLimitBytes: number }): fc.IAsyncProperty<[HostileExchange[]]> {
    return fc.asyncProperty(hostileBurst(options), async (burst) => {
      this.stats.cases += 1;
      const results = await Promise.allSettled(burst.map((r) => (isRaw(r) ? this.sendRawAndCheck(r) : this.sendAndCheck(r))));
      const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failures.length > 0) throw failures[0].reason;
    });
  }

  resolvePath(path: string): string {
    return path.replace(/\{(known|KNOWN):(\d+)\}/g, (_m, which: string, n: string) => {
      const ids = this.stats.created;
      const id = ids.length === 0 ? RANDOM_UUID : ids[Number(n) % ids.length];
      return which === 'KNOWN' ? id.toUpperCase() : id;
    });
  }

  /** Sends one request; `path` is `r.path` with `{known:n}` resolved (once: the pool grows meanwhile). */
  send(r: HostileRequest, path = this.resolvePath(r.path)): Promise<FuzzResponse> {
    return new Promise<FuzzResponse>((resolve, reject) => {
      const headers: Record<string, string> = { ...r.headers };
      if (r.chunked) headers['transfer-encoding'] = 'chunked';
      else if (r.body !== undefined) headers['content-length'] = String(r.body.length);
      const req = http.request({ host: this.host, port: this.port, method: r.method, path, headers, agent: this.agent });
      const timer = setTimeout(() => req.destroy(new Error(`no response within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      req.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      if (r.body !== undefined && r.chunked) {
        const half = Math.floor(r.body.length / 2);
        req.write(r.body.subarray(0, half));
        req.end(r.body.subarray(half));
      } else {
        req.end(r.body);
      }
    });
  }

  async sendAndCheck(r: HostileRequest): Promise<FuzzResponse> {
    const path = this.resolvePath(r.path);
    this.stats.requests += 1;
    this.stats.kinds[r.kind.split('+')[0]] = (this.stats.kinds[r.kind.split('+')[0]] ?? 0) + 1;
    const fail = (why: string, res?: FuzzResponse): never => {
      const got = res ? ` -> ${res.status} ${JSON.stringify(res.headers['content-type'])} ${res.body.subarray(0, 300).toString('utf8')}` : '';
      throw new PropertyViolation(`${why}\n  request: ${describeRequest(r)}\n  resolved path: ${path.slice(0, 300)}${got}`);
    };
    let res: FuzzResponse;
    try {
      res = await this.send(r, path);
    } catch (err) {
      return fail(`no HTTP response: ${err instanceof Error ? err.message : String(err)}`);
    }
    this.stats.statuses[res.status] = (this.stats.statuses[res.status] ?? 0) + 1;
    if (res.status >= 500) fail(`server error ${res.status}`, res);
    if (res.status < 200 || res.status >= 500) fail(`status ${res.status} is neither 2xx nor 4xx`, res);
    if (r.method === 'HEAD' || res.status === 204) {
      if (res.body.length > 0) fail('HEAD/204 response with a body', res);
      if (res.status === 204) this.noteDelete(r, path);
      return res;
    }
    if (!/^application\/json\b/.test(String(res.headers['content-type']))) fail('response is not JSON', res);
    let body: unknown;
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      return fail('response body does not parse as JSON', res);
    }
    if (res.status >= 400) {
      const e = body as Record<string, unknown>;
      if (typeof e !== 'object' || e === null || e.statusCode !== res.status || typeof e.error !== 'string' || typeof e.message !== 'string') {
        fail('error body is not {statusCode, error, message}', res);
      }
      return res;
    }
    if (res.status === 202 && r.method === 'DELETE') this.noteBulkDelete(body);
    // 2xx: task bodies must describe possible states; 201s register the created tasks.
    const tasks = Array.isArray(body) ? body : typeof body === 'object' && body !== null && 'id' in body ? [body] : [];
    for (const t of tasks) {
      const problem = taskProblem(t);
      if (problem) fail(`impossible task in response: ${problem}`, res);
    }
    // Batch elements answered with the task an earlier request with their idempotency_key created.
    const replayed = new Set(String(res.headers['idempotent-replayed'] ?? '').split(',').filter((x) => /^\d+$/.test(x)).map(Number));
    if (res.status === 201) {
      if (r.method !== 'POST' || tasks.length === 0) fail('201 without created tasks', res);
      if (res.headers['idempotent-replayed'] === 'true') fail('201 for a replayed request', res);
      for (const [i, t] of (tasks as Array<{ id: string; status: string; retries: number; attempts: number }>).entries()) {
        if (replayed.has(i)) continue;
        if (t.status !== 'pending' || t.retries !== 0 || t.attempts !== 0) fail('a new task is not fresh and pending', res);
        this.noteCreated(t as unknown as TaskShape);
      }
    }
    // A POST answered 200 repeats an earlier request: it created nothing.
    if (res.status === 200 && r.method === 'POST' && res.headers['idempotent-replayed'] === undefined) fail('POST answered 200 without Idempotent-Replayed', res);
    const link = res.headers.link;
    // The link repeats the path as the client wrote it (`/TASKS/` routes to the listing too).
    if (link !== undefined && !/^<\/tasks\/?\?[^>\s]*cursor=[A-Za-z0-9_-]+>; rel="next"$/i.test(String(link))) fail(`malformed Link header ${String(link)}`, res);
    return res;
  }

  /** Writes raw bytes on a fresh connection and checks every response that comes back. */
  async sendRawAndCheck(x: RawExchange): Promise<RawResponse[]> {
    this.stats.requests += 1;
    this.stats.kinds[x.kind] = (this.stats.kinds[x.kind] ?? 0) + 1;
    const fail = (why: string, got?: Buffer): never => {
      throw new PropertyViolation(`${why}\n  exchange: ${describeRequest(x)}${got ? `\n  got: ${JSON.stringify(got.subarray(0, 600).toString('latin1'))}` : ''}`);
    };
    let exchange: RawExchangeResult;
    try {
      exchange = await this.exchangeRaw(x);
    } catch (err) {
      return fail(err instanceof Error ? err.message : String(err));
    }
    const { bytes, socketError, closedByServerFirst } = exchange;
    // A reset once an answer is in is how Node ends a connection whose request it refused while
    // bytes were still coming; a connection error before any answer is a dropped connection.
    if (socketError && socketError.afterBytes === 0) fail(`connection error ${socketError.code} before any answer`, bytes);
    let responses: RawResponse[];
    try {
      responses = parseRawResponses(bytes);
    } catch (err) {
      return fail(`unparseable response: ${String(err)}`, bytes);
    }
    for (const res of responses) {
      this.stats.statuses[res.status] = (this.stats.statuses[res.status] ?? 0) + 1;
      if (res.status >= 500) fail(`server error ${res.status}`, bytes);
      if (res.status === 100) continue; // the interim answer to Expect: 100-continue
      if (res.status < 200) fail(`status ${res.status}`, bytes);
      const type = res.headers['content-type'];
      if (type === undefined) {
        // Node's own answers to requests its parser refused: no body, and the connection closes.
        if (!NODE_BARE_STATUSES.includes(res.status) || res.body.length > 0) fail(`bodiless ${res.status} that is not one of Node's parser answers`, bytes);
        continue;
      }
      if (res.status === 204) continue;
      if (!/^application\/json\b/.test(type)) fail(`response is not JSON (${type})`, bytes);
      let body: unknown;
      try {
        body = JSON.parse(res.body.toString('utf8'));
      } catch {
        return fail('response body does not parse as JSON', bytes);
      }
      if (res.status >= 400) {
        const e = body as Record<string, unknown>;
        if (e?.statusCode !== res.status || typeof e.error !== 'string' || typeof e.message !== 'string') fail('error body is not {statusCode, error, message}', bytes);
      }
      if (res.status === 202) this.noteBulkDelete(body);
      if (res.status === 201) {
        for (const t of Array.isArray(body) ? body : [body]) {
          const problem = taskProblem(t);
          if (problem) fail(`impossible task in response: ${problem}`, bytes);
          this.noteCreated(t as TaskShape);
        }
      }
    }
    // Answers from the app (Node's bare parser errors aside: one may follow, e.g. when the connection
    // ends inside a body the app did not wait for). More than one per request means a request was
    // parsed twice, or a smuggled one got through.
    const answered = responses.filter((r) => r.status !== 100 && r.headers['content-type'] !== undefined).length;
    if (x.complete && answered < x.requests) fail(`${answered} answers to ${x.requests} complete request(s)`, bytes);
    if (answered > x.requests) fail(`${answered} responses to ${x.requests} request(s): a request was parsed twice or smuggled`, bytes);
    if (!x.complete) {
      const finals = responses.filter((r) => r.status !== 100);
      const nothingSent = /^[\r\n]*$/.test(x.raw.toString('latin1'));
      if (finals.length > 0 && !finals.some((r) => r.status >= 400 && r.status < 500)) {
        fail(`bytes that are not a complete valid request got no 4xx (${finals.map((r) => r.status).join(', ')})`, bytes);
      }
      if (finals.length === 0 && nothingSent && closedByServerFirst) fail('the server closed a connection that had sent nothing yet', bytes);
      if (finals.length === 0 && !nothingSent && !hasCompleteHead(x.raw)) fail('closed without an answer before a complete request head', bytes);
    }
    // Whatever one connection did, the server goes on serving the others.
    let live: number | string;
    try {
      live = (await this.send({ kind: 'check', method: 'GET', path: '/health/live', headers: {}, chunked: false })).status;
    } catch (err) {
      live = err instanceof Error ? err.message : String(err);
    }
    if (live !== 200) fail(`GET /health/live after the exchange: ${live}`, bytes);
    return responses;
  }

  /**
   * Sends the bytes; the exchange ends when the server closes the connection, or once the expected
   * number of answers arrived, or (bytes that may be incomplete) after 250 ms without news: then we
   * half-close, so the server sees the end of an incomplete request. No end within 5 s is a hang.
   */
  private exchangeRaw(x: RawExchange): Promise<RawExchangeResult> {
    return new Promise<RawExchangeResult>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const socket = net.connect(this.port, this.host);
      let idle: NodeJS.Timeout | undefined;
      let weEnded = false;
      let closedByServerFirst = false;
      let socketError: RawExchangeResult['socketError'];
      const end = () => {
        weEnded = true;
        socket.end();
      };
      const hang = setTimeout(() => {
        socket.destroy();
        reject(new Error(`the server neither answered nor closed the connection within 5 s; got ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`));
      }, 5000);
      const quietEnd = () => {
        clearTimeout(idle);
        if (!x.complete) idle = setTimeout(end, 250);
      };
      socket.on('connect', () => {
        socket.write(x.raw);
        quietEnd();
      });
      socket.on('data', (d: Buffer) => {
        chunks.push(d);
        const complete = (() => {
          try {
            return parseRawResponses(Buffer.concat(chunks), true).filter((r) => r.status !== 100).length;
          } catch {
            return 0;
          }
        })();
        if (complete >= x.requests) end();
        else quietEnd();
      });
      socket.on('end', () => {
        if (!weEnded) closedByServerFirst = true;
      });
      // Recorded, judged by the caller: fine after an answer, a failure before any.
      socket.on('error', (err: NodeJS.ErrnoException) => {
        socketError ??= { code: err.code ?? err.message, afterBytes: Buffer.concat(chunks).length };
      });
      socket.on('close', () => {
        clearTimeout(idle);
        clearTimeout(hang);
        resolve({ bytes: Buffer.concat(chunks), socketError, closedByServerFirst });
      });
    });
  }

  private noteCreated(t: TaskShape): void {
    this.stats.created.push(t.id);
    this.stats.accepted.set(t.id, { id: t.id, queue: t.queue, type: t.type, payload: t.payload, max_retry: t.max_retry, priority: t.priority, timeout_ms: t.timeout_ms });
  }

  /** A bulk delete's 202 says how many tasks it removed. */
  private noteBulkDelete(body: unknown): void {
    const deleted = (body as { deleted?: unknown } | null)?.deleted;
    if (typeof deleted === 'number') this.stats.bulkDeleted += deleted;
  }

  /** A DELETE answered 204 removed the task its path names (`/tasks/<id>`, `/tasks/<ID>/`, ...). */
  private noteDelete(r: HostileRequest, path: string): void {
    if (r.method !== 'DELETE') return;
    let target = path.split('?')[0];
    try {
      target = decodeURIComponent(target);
    } catch {
      // undecodable: use it as it is
    }
    // The path segment that named the task, as the service reads it (TaskIdPipe: a UUID in lower case,
    // a base64url id as it is).
    for (const segment of target.split('/')) this.stats.deleted.add(UUID_ID_PATTERN.test(segment) ? segment.toLowerCase() : segment);
  }

  /** A plain GET, for the checks after the run. */
  async get(path: string): Promise<{ status: number; body: unknown }> {
    const res = await this.send({ kind: 'check', method: 'GET', path, headers: {}, chunked: false });
    let body: unknown;
    try {
      body = JSON.parse(res.body.toString('utf8'));
    } catch {
      body = res.body.toString('utf8');
    }
    return { status: res.status, body };
  }

  close(): void {
    this.agent.destroy();
  }
}

export interface RawResponse {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

interface RawExchangeResult {
  bytes: Buffer;
  /** The first error on the socket, and how many bytes had arrived before it. */
  socketError?: { code: string; afterBytes: number };
  /** The server ended the connection before the client did (after its answers, or instead of any). */
  closedByServerFirst: boolean;
}

/** The bytes hold a whole request head (request line and headers, ended by an empty line). */
const hasCompleteHead = (raw: Buffer): boolean => /\r?\n\r?\n/.test(raw.toString('latin1').replace(/^[\r\n]+/, ''));

/** What Node's HTTP server sends by itself, without a body, when its parser refuses a request. */
const NODE_BARE_STATUSES = [400, 408, 413, 417, 431];

/**
 * Splits the bytes of one connection into HTTP/1.1 responses (Content-Length or chunked bodies; a
 * response with neither has no body here, which holds for everything this server sends). With
 * `completeOnly`, a trailing partial response is left out instead of being an error.
 */
export function parseRawResponses(bytes: Buffer, completeOnly = false): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  while (pos < bytes.length) {
    const end = bytes.indexOf('\r\n\r\n', pos);
    if (end < 0) {
      if (completeOnly) break;
      throw new Error(`incomplete response head at byte ${pos}`);
    }
    const lines = bytes.subarray(pos, end).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) throw new Error(`not a status line: ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    pos = end + 4;
    let body: Buffer = Buffer.alloc(0);
    if (headers['content-length'] !== undefined) {
      const len = Number(headers['content-length']);
      if (pos + len > bytes.length) {
        if (completeOnly) break;
        throw new Error('truncated body');
      }
      body = bytes.subarray(pos, pos + len);
      pos += len;
    } else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = bytes.indexOf('\r\n', pos);
        if (lineEnd < 0) {
          if (completeOnly) return out;
          throw new Error('truncated chunked body');
        }
        const size = parseInt(bytes.subarray(pos, lineEnd).toString('latin1'), 16);
        pos = lineEnd + 2;
        if (size === 0) {
          pos = bytes.indexOf('\r\n', pos) + 2;
          break;
        }
        parts.push(bytes.subarray(pos, pos + size));
        pos += size + 2;
      }
      body = Buffer.concat(parts);
    }
    out.push({ status: Number(m[1]), headers, body });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// The app under test, and the checks after a run
// ---------------------------------------------------------------------------------------------

/** Environment of the app the fuzz runs against: tasks run fast so the queue drains quickly. */
export const FUZZ_APP_ENV: Record<string, string> = {
  APP_ROLE: 'all',
  WORKER_COUNT: '2',
  BODY_LIMIT: '64kb',
  SLOW_TASK_MS: '20',
  FLAKY_FAILURE_RATE: '0.5',
  RETRY_BASE_DELAY_MS: '1',
  RETRY_MAX_DELAY_MS: '20',
};

export interface FuzzApp {
  testApp: TestApp;
  app: INestApplication;
  fuzzer: HttpFuzzer;
  close(): Promise<void>;
}

/** The whole app as main.ts builds it, listening on an ephemeral loopback port, with a fuzzer aimed at it. */
export async function startFuzzApp(env: Record<string, string>): Promise<FuzzApp> {
  const testApp = await createTestApp({ ...FUZZ_APP_ENV, ...env });
  await testApp.app.listen(0, '127.0.0.1');
  const { port } = testApp.app.getHttpServer().address() as AddressInfo;
  const fuzzer = new HttpFuzzer('127.0.0.1', port);
  return {
    testApp,
    app: testApp.app,
    fuzzer,
    close: async () => {
      fuzzer.close();
      await testApp.close();
    },
  };
}

export interface AfterRunReport {
  integrity: IntegrityReport;
  /** Keys found by SCAN MATCH *<prefix>*. */
  keysMentioningPrefix: number;
  created: number;
  deleted: number;
  quietAfterMs: number;
  problems: string[];
}

/** Own property names of Object.prototype, taken before a run to detect prototype pollution after it. */
export const prototypeSnapshot = (): string[] => Object.getOwnPropertyNames(Object.prototype).sort();

/**
 * The checks after a run: healthy, quiet, zero integrity violations, no key outside the queue base,
 * every accepted task finished (or deleted by a 204, or among the n a bulk delete's 202 counted), no
 * prototype pollution. Returns the problems
 * instead of throwing, so callers can print everything at once.
 */
export async function verifyAfterRun(
  fuzz: FuzzApp,
  { quietTimeoutMs = 30_000, prototypeBefore }: { quietTimeoutMs?: number; prototypeBefore?: string[] } = {},
): Promise<AfterRunReport> {
  const problems: string[] = [];
  const { app, fuzzer } = fuzz;
  const repo = app.get(QueueRepository);
  const keys = repo.keys;
  const redis = app.get(RedisConnections).commands;

  for (const path of ['/health/ready', '/health/live', '/health']) {
    const res = await fuzzer.get(path);
    if (res.status !== 200) problems.push(`GET ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  }

  // The checker needs quiet queues: nothing pending at any priority level (retries wait at most
  // RETRY_MAX_DELAY_MS, scheduled tasks at most 20 ms) or running, in any queue.
  const quietStart = Date.now();
  const stages = (await repo.queueNames()).flatMap((name) => {
    const k = repo.keysOf(name);
    return [k.queueFor('high'), k.queue, k.queueFor('low'), k.active];
  });
  await waitFor(
    async () => ((await Promise.all(stages.map((k) => redis.zcard(k)))).every((n) => n === 0) ? true : undefined),
    { timeoutMs: quietTimeoutMs, intervalMs: 20, what: 'the queue to drain (no pending or processing task)' },
  ).catch((err: unknown) => problems.push(String(err)));
  const quietAfterMs = Date.now() - quietStart;

  const integrity = await new QueueIntegrityChecker(app.get(RedisConnections), app.get(QueueRepository)).check();
  for (const v of integrity.violations.slice(0, 20)) problems.push(`integrity: ${v.kind} ${v.id} ${v.detail}`);
  if (integrity.violations.length > 20) problems.push(`integrity: and ${integrity.violations.length - 20} more violations`);

  // Every key that mentions this run's (unique) prefix must be under a queue's base (`<prefix>:{<queue>}:`,
  // the workers' and schedules' tags included) or be the queue registry.
  const mentioning: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `*${keys.prefix}*`, 'COUNT', 1000);
    cursor = next;
    mentioning.push(...found);
  } while (cursor !== '0');
  const inPlace = (k: string) => k.startsWith(`${keys.prefix}:{`) || k === queueRegistryKey(keys.prefix);
  for (const key of mentioning.filter((k) => !inPlace(k)).slice(0, 20)) problems.push(`key outside the queue base: ${key}`);

  // Every accepted task is finished, or gone because a DELETE of it answered 204, or one of the tasks
  // bulk deletes answered 202 for (their answer has a count, not ids: at most that many may be gone).
  const { created, deleted, bulkDeleted } = fuzzer.stats;
  const deletedById = created.filter((id) => deleted.has(id)).length;
  if (integrity.byStatus.pending + integrity.byStatus.processing > 0) {
    problems.push(`unfinished tasks after the drain: ${JSON.stringify(integrity.byStatus)}`);
  }
  const goneUnnamed: string[] = [];
  for (const id of created) {
    const res = await fuzzer.get(`/tasks/${id}`);
    if (deleted.has(id)) {
      if (res.status !== 404) problems.push(`task ${id} was deleted (204) but GET answers ${res.status}`);
      continue;
    }
    if (res.status === 404 && goneUnnamed.length < bulkDeleted) {
      goneUnnamed.push(id);
      continue;
    }
    if (res.status === 404 && bulkDeleted > 0) {
      problems.push(`${goneUnnamed.length + 1} accepted tasks are gone with no 204 DELETE naming them; bulk deletes removed ${bulkDeleted}: ${id}`);
    }
    const status = (res.body as { status?: string }).status;
    const problem = res.status === 200 ? taskProblem(res.body) : undefined;
    if (res.status !== 200 || problem || (status !== 'completed' && status !== 'failed')) {
      problems.push(`accepted task ${id}: ${res.status} ${problem ?? ''} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    // Stored exactly as accepted: NUL, emoji, quotes and 40 kB payloads survive Redis and the scripts.
    const sent = fuzzer.stats.accepted.get(id);
    const got = res.body as Partial<TaskShape>;
    const optionsDiffer = got.priority !== sent?.priority || got.timeout_ms !== sent?.timeout_ms || got.queue !== sent?.queue;
    if (sent && res.status === 200 && (optionsDiffer || got.type !== sent.type || got.max_retry !== sent.max_retry || (!LONE_SURROGATE.test(sent.payload) && got.payload !== sent.payload))) {
      problems.push(`task ${id} is stored differently from its 201: ${JSON.stringify(sent).slice(0, 200)} vs ${JSON.stringify(got).slice(0, 200)}`);
    }
    if (problems.length > 50) break;
  }
  const expectedGone = deletedById + goneUnnamed.length;
  if (integrity.tasks !== created.length - expectedGone) {
    problems.push(`Redis holds ${integrity.tasks} tasks; ${created.length} were accepted, ${deletedById} deleted by id and ${goneUnnamed.length} by bulk deletes (which removed ${bulkDeleted})`);
  }

  if (prototypeBefore) {
    const after = prototypeSnapshot();
    if (after.join() !== prototypeBefore.join()) problems.push(`Object.prototype changed: ${after.filter((k) => !prototypeBefore.includes(k)).join(', ')}`);
  }
  const probe = {} as Record<string, unknown>;
  for (const k of ['polluted', 'isAdmin', 'type', 'status']) if (k in probe) problems.push(`Object.prototype.${k} is set (polluted)`);

  return { integrity, keysMentioningPrefix: mentioning.length, created: created.length, deleted: expectedGone, quietAfterMs, problems };
}
