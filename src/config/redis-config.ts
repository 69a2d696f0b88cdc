/** One Redis endpoint of a cluster seed list or a sentinel list. */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * How the service reaches Redis beyond the plain address (REDIS_URL / REDIS_ADDR): a Cluster seed list
 * or a Sentinel group (at most one of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS), TLS and an ACL
 * user for the address forms that have no URL, and how many replicas must hold an enqueue before it is
 * answered.
 */
export interface RedisTopologyConfig {
  /** ACL user (REDIS_USERNAME) with REDIS_PASSWORD; a REDIS_URL carries its own. */
  username?: string;
  /** TLS to REDIS_ADDR, every cluster node or the sentinels and the primary (REDIS_TLS); rediss:// for a URL. */
  tls: boolean;
  /** Seed nodes of a Redis Cluster (REDIS_CLUSTER_NODES); the rest of the cluster is discovered. */
  cluster?: RedisNode[];
  /** Sentinels and the name of the primary they watch (REDIS_SENTINELS, REDIS_SENTINEL_NAME). */
  sentinel?: { nodes: RedisNode[]; name: string; password?: string };
  /** After an enqueue, WAIT for this many replicas (REDIS_WAIT_REPLICAS); 0: no WAIT. */
  waitReplicas: number;
  /** Longest WAIT (REDIS_WAIT_TIMEOUT_MS). */
  waitTimeoutMs: number;
}

export interface RedisTopologyVariables {
  REDIS_URL?: string;
  REDIS_DB: number;
  REDIS_USERNAME?: string;
  REDIS_TLS: string;
  REDIS_CLUSTER_NODES?: string;
  REDIS_SENTINELS?: string;
  REDIS_SENTINEL_NAME?: string;
  REDIS_SENTINEL_PASSWORD?: string;
  REDIS_WAIT_REPLICAS: number;
  REDIS_WAIT_TIMEOUT_MS: number;
}

const NODE = /^([^\s:,]+):(\d{1,5})$/;

function parseNodes(name: string, value: string, problems: string[]): RedisNode[] {
  const nodes: RedisNode[] = [];
  for (const item of value.split(',').map((s) => s.trim())) {
    const match = NODE.exec(item);
    const port = match ? Number(match[2]) : 0;
    if (!match || port < 1 || port > 65535) {
      problems.push(`${name}: "${item}" is not host:port (a comma-separated list like 10.0.0.1:6379,10.0.0.2:6379)`);
    } else {
      nodes.push({ host: match[1], port });
    }
  }
  return nodes;
}

/**
 * Checks the topology variables together (each alone is typed by env.schema.ts) and names every
 * problem; passwords are never part of a message.
 */
export function parseRedisTopology(env: RedisTopologyVariables, problems: string[]): RedisTopologyConfig {
  const modes = (['REDIS_URL', 'REDIS_CLUSTER_NODES', 'REDIS_SENTINELS'] as const).filter((n) => env[n] !== undefined);
  if (modes.length > 1) {
    problems.push(`${modes.join(' and ')} are mutually exclusive: set one of REDIS_URL, REDIS_CLUSTER_NODES, REDIS_SENTINELS`);
  }
  const tls = env.REDIS_TLS === 'true';
  if (env.REDIS_URL !== undefined) {
    if (tls) problems.push('REDIS_TLS does not apply to REDIS_URL: use a rediss:// URL for TLS');
    if (env.REDIS_USERNAME !== undefined) problems.push('REDIS_USERNAME does not apply to REDIS_URL: put the user in the URL (redis://user:password@host:port)');
  }
  const cluster = env.REDIS_CLUSTER_NODES === undefined ? undefined : parseNodes('REDIS_CLUSTER_NODES', env.REDIS_CLUSTER_NODES, problems);
  if (cluster && env.REDIS_DB !== 0) problems.push(`REDIS_DB must be 0 with REDIS_CLUSTER_NODES: a Redis Cluster has database 0 only (got "${env.REDIS_DB}")`);

  let sentinel: RedisTopologyConfig['sentinel'];
  if (env.REDIS_SENTINELS !== undefined) {
    const nodes = parseNodes('REDIS_SENTINELS', env.REDIS_SENTINELS, problems);
    if (env.REDIS_SENTINEL_NAME === undefined) problems.push('REDIS_SENTINEL_NAME is required with REDIS_SENTINELS: the name of the primary the sentinels monitor');
    sentinel = { nodes, name: env.REDIS_SENTINEL_NAME ?? '', password: env.REDIS_SENTINEL_PASSWORD };
  } else {
    for (const name of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'] as const) {
      if (env[name] !== undefined) problems.push(`${name} applies only with REDIS_SENTINELS, which is not set`);
    }
  }
  return { username: env.REDIS_USERNAME, tls, cluster, sentinel, waitReplicas: env.REDIS_WAIT_REPLICAS, waitTimeoutMs: env.REDIS_WAIT_TIMEOUT_MS };
}

/** host:port list for logs. */
export function describeNodes(nodes: RedisNode[]): string {
  return nodes.map((n) => `${n.host}:${n.port}`).join(',');
}

/** A Redis URL with its password (and user) masked, for logs. */
export function maskRedisUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/)[^@/]*@/, '$1***@');
}
