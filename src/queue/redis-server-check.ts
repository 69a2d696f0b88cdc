import type Redis from 'ioredis';

/** The scripts use ZRANGE ... BYSCORE LIMIT / REV (Redis 6.2). */
export const MIN_REDIS_VERSION = '6.2.0';

/** What the boot check learns of one server (a standalone server, the sentinel primary, or one cluster master). */
export interface RedisServerFacts {
  address: string;
  version: string;
  /** From INFO memory, so it is known even where CONFIG is disabled (managed Redis); undefined if absent. */
  maxmemoryPolicy?: string;
}

export class RedisVersionError extends Error {
  constructor(readonly servers: RedisServerFacts[]) {
    super(
      `Redis ${MIN_REDIS_VERSION} or later is required (the scripts use ZRANGE BYSCORE/REV LIMIT): ` +
        servers.map((s) => `${s.address} runs ${s.version}`).join(', '),
    );
    this.name = 'RedisVersionError';
  }
}

/** `a.b.c` >= `x.y.z`, numerically per part (a missing part is 0). */
export function versionAtLeast(version: string, minimum: string): boolean {
  const have = version.split('.').map((p) => Number.parseInt(p, 10) || 0);
  const want = minimum.split('.').map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < Math.max(have.length, want.length); i += 1) {
    const a = have[i] ?? 0;
    const b = want[i] ?? 0;
    if (a !== b) return a > b;
  }
  return true;
}

/** One field of an INFO reply. */
export function infoField(info: string, field: string): string | undefined {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(info);
  return match ? match[1].trim() : undefined;
}

/** INFO server and INFO memory of one server (two sections: Redis 6.2 takes one per call). */
export async function readServerFacts(client: Redis, address: string): Promise<RedisServerFacts> {
  const [server, memory] = await Promise.all([client.info('server'), client.info('memory')]);
  return {
    address,
    version: infoField(server, 'redis_version') ?? 'unknown',
    maxmemoryPolicy: infoField(memory, 'maxmemory_policy'),
  };
}

/** Servers too old for the scripts; the boot fails when there is any. */
export function tooOld(servers: RedisServerFacts[]): RedisServerFacts[] {
  return servers.filter((s) => !versionAtLeast(s.version, MIN_REDIS_VERSION));
}

/** Servers that may evict keys, i.e. silently drop accepted tasks under memory pressure. */
export function evicting(servers: RedisServerFacts[]): RedisServerFacts[] {
  return servers.filter((s) => s.maxmemoryPolicy !== undefined && s.maxmemoryPolicy !== 'noeviction');
}
