import { CreateTaskDto } from './dto/create-task.dto';
import { requestHash } from './request-hash';

const hash = (body: object) => requestHash(body as CreateTaskDto);

describe('requestHash (what an idempotency key compares)', () => {
  it('ignores key order, including inside backoff', () => {
    expect(hash({ type: 'echo', payload: 'x', priority: 'low', backoff: { type: 'fixed', delay_ms: 5 } })).toBe(
      hash({ backoff: { delay_ms: 5, type: 'fixed' }, priority: 'low', payload: 'x', type: 'echo' }),
    );
  });

  it('ignores key order inside a JSON payload, at every depth, but not the order of array items', () => {
    expect(hash({ type: 'custom', payload: { a: 1, b: { c: [1, { d: 2, e: 3 }], f: null } } })).toBe(
      hash({ type: 'custom', payload: { b: { f: null, c: [1, { e: 3, d: 2 }] }, a: 1 } }),
    );
    expect(hash({ type: 'custom', payload: [1, 2] })).not.toBe(hash({ type: 'custom', payload: [2, 1] }));
    expect(hash({ type: 'custom', payload: { a: 1 } })).not.toBe(hash({ type: 'custom', payload: { a: '1' } }));
    expect(hash({ type: 'custom', payload: { a: 1 } })).not.toBe(hash({ type: 'custom', payload: '{"a":1}' }));
  });

  it('compares run_at as the instant it names', () => {
    expect(hash({ type: 'echo', run_at: '2030-01-31T12:00:00Z' })).toBe(hash({ type: 'echo', run_at: '2030-01-31T13:00:00.000+01:00' }));
    expect(hash({ type: 'echo', run_at: '2030-01-31T12:00:00Z' })).not.toBe(hash({ type: 'echo', run_at: '2030-01-31T12:00:01Z' }));
  });

  it.each<[string, object, object]>([
    ['another payload', { type: 'echo', payload: 'a' }, { type: 'echo', payload: 'b' }],
    ['another type', { type: 'echo' }, { type: 'reverse' }],
    ['a field left out vs given at its default', { type: 'echo' }, { type: 'echo', payload: '' }],
    ['priority left out vs normal', { type: 'echo' }, { type: 'echo', priority: 'normal' }],
    ['another max_retry', { type: 'echo', max_retry: 1 }, { type: 'echo', max_retry: 2 }],
    ['delay_ms vs none', { type: 'echo', delay_ms: 0 }, { type: 'echo' }],
    ['another timeout', { type: 'echo', timeout_ms: 1 }, { type: 'echo', timeout_ms: 2 }],
    ['another backoff', { type: 'echo', backoff: { jitter: true } }, { type: 'echo', backoff: { jitter: false } }],
    ['backoff {} vs none', { type: 'echo', backoff: {} }, { type: 'echo' }],
    ['queue left out vs default', { type: 'echo' }, { type: 'echo', queue: 'default' }],
    ['another queue', { type: 'echo', queue: 'emails' }, { type: 'echo', queue: 'default' }],
    ['a payload that spells another field', { type: 'echo', payload: 'null,null' }, { type: 'echo', payload: 'null', max_retry: null }],
  ])('tells apart %s', (_what, a, b) => {
    expect(hash(a)).not.toBe(hash(b));
  });

  it('hashes a request without queue as before queue was part of it (keys stored by an older version still replay)', () => {
    expect(hash({ type: 'echo', payload: 'x', max_retry: 2 })).toBe('lF_4ZLEyYPkqVVQ7mcRclg1nQE7ICdLAckCiAOmYfgU');
  });

  it('does not include a batch element\'s own idempotency_key', () => {
    expect(hash({ type: 'echo', idempotency_key: 'a' })).toBe(hash({ type: 'echo', idempotency_key: 'b' }));
  });
});
