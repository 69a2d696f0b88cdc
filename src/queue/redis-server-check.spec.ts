import { evicting, infoField, RedisVersionError, tooOld, versionAtLeast } from './redis-server-check';

describe('Redis server boot check', () => {
  it.each([
    ['6.2.0', true],
    ['6.2.14', true],
    ['7.0.15', true],
    ['10.0.0', true],
    ['6.0.20', false],
    ['5.0.14', false],
    ['6.1.99', false],
    ['6.2', true],
    ['unknown', false],
  ])('version %p is at least 6.2.0: %p', (version, ok) => {
    expect(versionAtLeast(version, '6.2.0')).toBe(ok);
  });

  it('reads fields of an INFO reply', () => {
    const info = '# Server\r\nredis_version:7.0.15\r\nredis_mode:cluster\r\n';
    expect(infoField(info, 'redis_version')).toBe('7.0.15');
    expect(infoField(info, 'redis_mode')).toBe('cluster');
    expect(infoField(info, 'maxmemory_policy')).toBeUndefined();
  });

  it('names every server that is too old, and every one that may evict', () => {
    const servers = [
      { address: 'a:1', version: '7.2.4', maxmemoryPolicy: 'noeviction' },
      { address: 'b:2', version: '6.0.9', maxmemoryPolicy: 'allkeys-lru' },
      { address: 'c:3', version: '6.2.1', maxmemoryPolicy: undefined },
    ];
    const old = tooOld(servers);
    expect(old.map((s) => s.address)).toEqual(['b:2']);
    expect(new RedisVersionError(old).message).toBe(
      'Redis 6.2.0 or later is required (the scripts use ZRANGE BYSCORE/REV LIMIT): b:2 runs 6.0.9',
    );
    expect(evicting(servers).map((s) => s.address)).toEqual(['b:2']);
  });
});
