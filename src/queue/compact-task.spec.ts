import { compactTaskHash, expandTaskHash, isCompactTaskHash } from './compact-task';

describe('compact completed task hashes', () => {
  const full = {
    status: 'completed',
    type: 'email|x',
    payload: '{"a":1}',
    result: 'ok',
    created_at: '1764553200123',
    updated_at: '1764553200456',
    started_at: '1764553200400',
    attempts: '2',
    retries: '1',
    max_retry: '3',
    started: '2',
    worker: 'hôst|1-12/3',
    error: 'boom',
    priority: 'high',
  };

  it('packs the common fields into z, renames payload and result, keeps the others', () => {
    const c = compactTaskHash(full);
    expect(c).toEqual({ z: `1764553200123|333|56|2|1|3||${Buffer.byteLength(full.worker)}|hôst|1-12/3email|x`, p: '{"a":1}', o: 'ok', error: 'boom', priority: 'high' });
    expect(isCompactTaskHash(c)).toBe(true);
    expect(isCompactTaskHash(full)).toBe(false);
  });

  it('reads back exactly the full form', () => {
    expect(expandTaskHash(compactTaskHash(full))).toEqual(full);
  });

  it('keeps absent fields absent and empty ones empty', () => {
    const bare = { status: 'completed', type: 't', payload: '', result: '', attempts: '1', updated_at: '5', worker: '' };
    const c = compactTaskHash(bare);
    expect(c.z).toBe('|5||1|||-|0|t');
    expect(expandTaskHash(c)).toEqual(bare);
  });

  it('keeps a started token other than attempts, and times without created_at or updated_at', () => {
    const odd = { status: 'completed', type: 't', payload: '', result: '', attempts: '3', started: '2', started_at: '40' };
    const c = compactTaskHash(odd);
    expect(c.z).toBe('||-40|3|||2||t');
    expect(expandTaskHash(c)).toEqual(odd);
    const late = { ...full, started_at: '1764553200999' };
    expect(expandTaskHash(compactTaskHash(late))).toEqual(late);
  });

  it('leaves a hash of the full form as it is', () => {
    const pending = { status: 'pending', type: 't', payload: 'x' };
    expect(expandTaskHash(pending)).toBe(pending);
  });

  it('reads a malformed z as a completed task without the packed fields, never throws', () => {
    expect(expandTaskHash({ z: 'garbage', p: 'x' })).toEqual({ status: 'completed', payload: 'x' });
  });
});
