import { RedisServer } from '../../tools/dev/redis-server';

/**
 * A private redis-server (the shared launcher, tools/dev/redis-server) on a free loopback port,
 * persisted with AOF in a temporary directory, so a test can kill, freeze and restart "Redis"
 * without touching the shared server.
 */
export type PrivateRedis = RedisServer;

export const PrivateRedis = {
  start: (fsync: 'always' | 'everysec' = 'always'): Promise<PrivateRedis> => RedisServer.start({ persistence: fsync }),
};
