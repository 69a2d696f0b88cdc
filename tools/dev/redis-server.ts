import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ChildHandle, defaultProcesses, ProcessSet } from './child-process';
import { freePort, freePortWithBus } from './ports';
import { delay } from './wait';

/** AOF with this `appendfsync`, or `none`: no persistence at all (`--save ''`, `--appendonly no`). */
export type RedisPersistence = 'always' | 'everysec' | 'none';

export interface RedisServerOptions {
  persistence: RedisPersistence;
  /** Default: a free loopback port. */
  port?: number;
  /** Data directory (the AOF lives here, so a restart finds it). Default: a new temporary directory, removed by `destroy`. */
  dir?: string;
  /** Every line redis-server prints is appended here (default: only kept in memory for error messages). */
  logFile?: string;
  /** The set that owns the process (its cleanup ends it). Default: one that ends it when this process exits. */
  processes?: ProcessSet;
  /** Runs redis-server under a wrapper that kills it when this process dies, even by SIGKILL (see SpawnSpec). */
  diesWithParent?: boolean;
  /** A Redis Cluster node (`--cluster-enabled yes`, nodes.conf in `dir`); see RedisCluster. */
  cluster?: boolean;
  /** Starts as a replica of this server (`--replicaof`). */
  replicaOf?: { host: string; port: number };
  /** A sentinel (`redis-server sentinel.conf --sentinel`) monitoring this primary; see RedisSentinelGroup. */
  sentinel?: SentinelMonitor;
  /** More environment for redis-server (besides PATH), e.g. a locale: `{ LC_ALL: 'en_US.UTF-8' }`. */
  env?: Record<string, string>;
}

export interface SentinelMonitor {
  name: string;
  host: string;
  port: number;
  quorum: number;
  /** `sentinel down-after-milliseconds`: how long the primary may be silent before it counts as down. */
  downAfterMs: number;
  /** `sentinel failover-timeout`. */
  failoverTimeoutMs: number;
}

const HOST = '127.0.0.1';

/**
 * The one launcher of private redis-servers for tests, benchmarks and scripts: a redis-server on a
 * loopback port of its own, so a test can crash, freeze and restart "Redis" (or a benchmark flush it)
 * without touching the shared server on 6379. `noeviction`, as production should run.
 */
export class RedisServer {
  readonly host = HOST;
  private proc?: ChildHandle;
  private generation = 0;

  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly ownsDir: boolean,
    private readonly options: RedisServerOptions,
  ) {}

  /** A new server, started and answering PING (with its AOF loaded). */
  static async start(options: RedisServerOptions, timeoutMs = 20_000): Promise<RedisServer> {
    const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'taskqueue-redis-'));
    const port = options.port ?? (options.cluster ? await freePortWithBus() : await freePort());
    const server = new RedisServer(port, dir, options.dir === undefined, options);
    try {
      await server.restart(timeoutMs);
    } catch (err) {
      await server.destroy();
      throw err;
    }
    return server;
  }

  get url(): string {
    return `redis://${HOST}:${this.port}`;
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc?.alive ?? false;
  }

  /** The arguments redis-server runs with (for reports). */
  get args(): string[] {
    if (this.options.sentinel) {
      return [join(this.dir, 'sentinel.conf'), '--sentinel', '--port', String(this.port), '--bind', HOST, '--dir', this.dir, '--daemonize', 'no'];
    }
    const role = [
      ...(this.options.cluster
        ? ['--cluster-enabled', 'yes', '--cluster-config-file', join(this.dir, 'nodes.conf'), '--cluster-node-timeout', '2000']
        : []),
      ...(this.options.replicaOf ? ['--replicaof', this.options.replicaOf.host, String(this.options.replicaOf.port)] : []),
    ];
    const persistence =
      this.options.persistence === 'none'
        ? ['--appendonly', 'no']
        : ['--appendonly', 'yes', '--appendfsync', this.options.persistence];
    return [
      '--port', String(this.port),
      '--bind', HOST,
      '--protected-mode', 'yes',
      '--dir', this.dir,
      '--save', '',
      ...persistence,
      '--maxmemory-policy', 'noeviction',
      '--daemonize', 'no',
      ...role,
    ];
  }

  /** Starts redis-server (again, after `kill`: same port, same directory, same AOF) and waits until it answers. */
  async restart(timeoutMs = 20_000): Promise<void> {
    if (this.running) throw new Error(`redis-server on port ${this.port} is already running`);
    this.writeSentinelConf();
    this.generation += 1;
    const proc = (this.options.processes ?? defaultProcesses).spawn(`redis-${this.port}-${this.generation}`, {
      command: 'redis-server',
      args: this.args,
      cwd: this.dir,
      env: { PATH: process.env.PATH ?? '', ...this.options.env },
      logFile: this.options.logFile,
      diesWithParent: this.options.diesWithParent,
    });
    this.proc = proc;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!proc.alive) {
        await proc.closed;
        throw new Error(`redis-server on port ${this.port} exited at start (${JSON.stringify(proc.exit)}):\n${proc.output()}`);
      }
      if (await redisPing(this.port)) return;
      await delay(25);
    }
    throw new Error(`redis-server on port ${this.port} did not answer PING within ${timeoutMs} ms:\n${proc.output()}`);
  }

  /** SIGKILL: a crash, not a shutdown (what the AOF has is what a restart finds). */
  async kill(): Promise<void> {
    await this.proc?.kill();
  }

  /**
   * SIGSTOP: Redis keeps its connections and accepts new ones but answers nothing, like a server that
   * is paused or overloaded, until `resume`. Unlike `CLIENT PAUSE ... ALL`, which on Redis 7 blocks
   * `CLIENT UNPAUSE` too and so ends only when its timer does, the end comes exactly when the caller says.
   */
  freeze(): void {
    this.proc?.freeze();
  }

  resume(): void {
    this.proc?.resume();
  }

  /** Kills the server and removes its directory when this launcher made it. */
  async destroy(): Promise<void> {
    await this.kill();
    this.removeDir();
  }

  /** A clean shutdown (SIGTERM, SIGKILL after `graceMs`), then removes its directory when this launcher made it. */
  async stop(graceMs = 5000): Promise<void> {
    await this.proc?.stop(graceMs);
    this.removeDir();
  }

  /** A sentinel rewrites its config file (it records what it learns), so it gets one of its own, written once. */
  private writeSentinelConf(): void {
    const monitor = this.options.sentinel;
    const file = join(this.dir, 'sentinel.conf');
    if (!monitor || existsSync(file)) return;
    const { name } = monitor;
    writeFileSync(
      file,
      [
        `sentinel monitor ${name} ${monitor.host} ${monitor.port} ${monitor.quorum}`,
        `sentinel down-after-milliseconds ${name} ${monitor.downAfterMs}`,
        `sentinel failover-timeout ${name} ${monitor.failoverTimeoutMs}`,
        `sentinel parallel-syncs ${name} 1`,
        '',
      ].join('\n'),
    );
  }

  private removeDir(): void {
    if (this.ownsDir) rmSync(this.dir, { recursive: true, force: true });
  }
}

/** One PING over a raw socket: true on +PONG, false on anything else (refused, -LOADING, timeout). */
export function redisPing(port: number, timeoutMs = 500, host = HOST): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let settled = false;
    const finish = (ok: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('data', (data) => finish(data.toString().startsWith('+PONG')));
    socket.connect(port, host, () => socket.write('PING\r\n'));
  });
}

const run = promisify(execFile);

/** One redis-cli command against a loopback server; its stdout. */
export async function redisCli(port: number, args: string[], timeoutMs = 20_000): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', HOST, '-p', String(port), ...args], { timeout: timeoutMs });
  return stdout;
}

/** Polls `check` every 50 ms until it holds; throws with `what` after `timeoutMs`. */
async function until(check: () => Promise<boolean>, what: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await delay(50);
  }
  throw new Error(`${what} not within ${timeoutMs} ms`);
}

/**
 * A real Redis Cluster on loopback ports: `masters` cluster-enabled redis-servers (no persistence, no
 * replicas), joined by `redis-cli --cluster create` (slots split evenly), ready once every node says
 * `cluster_state:ok`. `stop` ends every node and removes their directories.
 */
export class RedisCluster {
  private constructor(readonly nodes: RedisServer[]) {}

  static async start(masters = 3, options: Pick<RedisServerOptions, 'processes' | 'diesWithParent'> = {}, timeoutMs = 30_000): Promise<RedisCluster> {
    const nodes: RedisServer[] = [];
    const cluster = new RedisCluster(nodes);
    try {
      for (let i = 0; i < masters; i += 1) nodes.push(await RedisServer.start({ persistence: 'none', cluster: true, ...options }));
      await redisCli(nodes[0].port, ['--cluster', 'create', ...nodes.map((n) => `${HOST}:${n.port}`), '--cluster-replicas', '0', '--cluster-yes']);
      await until(
        async () => (await Promise.all(nodes.map((n) => redisCli(n.port, ['cluster', 'info'])))).every((info) => info.includes('cluster_state:ok')),
        'cluster_state:ok on every node',
        timeoutMs,
      );
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** REDIS_CLUSTER_NODES for the service: every node (any one would do as a seed). */
  get seeds(): string {
    return this.nodes.map((n) => `${HOST}:${n.port}`).join(',');
  }

  /** The node serving `slot` now, by the first node's CLUSTER NODES (`<id> <ip:port@cport> <flags> ... <slot ranges>`). */
  async nodeOfSlot(slot: number): Promise<RedisServer> {
    const listing = await redisCli(this.nodes[0].port, ['cluster', 'nodes']);
    for (const line of listing.trim().split('\n')) {
      const fields = line.split(' ');
      const port = Number(fields[1].split('@')[0].split(':')[1]);
      const serves = fields.slice(8).some((range) => {
        const [from, to = from] = range.split('-').map(Number);
        return from <= slot && slot <= to;
      });
      const node = this.nodes.find((n) => n.port === port);
      if (serves && node) return node;
    }
    throw new Error(`no node serves slot ${slot}:\n${listing}`);
  }

  /**
   * Moves one slot, keys and all, to `to` while clients keep using it (what `redis-cli --cluster
   * reshard` does per slot): IMPORTING on the target, MIGRATING on the source, MIGRATE the keys in
   * batches of `batch` (redis-cli's default --cluster-pipeline is 10; clients meanwhile get ASK or TRYAGAIN for them), then every node is told the new owner
   * (clients get MOVED from then on).
   */
  async migrateSlot(slot: number, to: RedisServer, batch = 10): Promise<{ from: RedisServer; keys: number }> {
    const from = await this.nodeOfSlot(slot);
    if (from === to) return { from, keys: 0 };
    const id = async (node: RedisServer) => (await redisCli(node.port, ['cluster', 'myid'])).trim();
    const [fromId, toId] = await Promise.all([id(from), id(to)]);
    await redisCli(to.port, ['cluster', 'setslot', String(slot), 'importing', fromId]);
    await redisCli(from.port, ['cluster', 'setslot', String(slot), 'migrating', toId]);
    let moved = 0;
    for (;;) {
      const keys = (await redisCli(from.port, ['cluster', 'getkeysinslot', String(slot), String(batch)])).split('\n').filter((k) => k !== '');
      if (keys.length === 0) break;
      await redisCli(from.port, ['migrate', HOST, String(to.port), '', '0', '5000', 'KEYS', ...keys]);
      moved += keys.length;
    }
    for (const node of [to, from, ...this.nodes.filter((n) => n !== to && n !== from)]) {
      await redisCli(node.port, ['cluster', 'setslot', String(slot), 'node', toId]);
    }
    return { from, keys: moved };
  }

  /** The slot of a key (CLUSTER KEYSLOT). */
  async slotOf(key: string): Promise<number> {
    return Number((await redisCli(this.nodes[0].port, ['cluster', 'keyslot', key])).trim());
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.destroy()));
  }
}

/**
 * A primary, one replica and three sentinels (quorum 2) on loopback ports, the replica in sync before
 * `start` returns. `stop` ends every process and removes their directories.
 */
export class RedisSentinelGroup {
  private constructor(
    readonly name: string,
    readonly primary: RedisServer,
    readonly replica: RedisServer,
    readonly sentinels: RedisServer[],
  ) {}

  static async start(
    persistence: RedisPersistence = 'everysec',
    options: Pick<RedisServerOptions, 'processes' | 'diesWithParent'> = {},
    timeoutMs = 30_000,
  ): Promise<RedisSentinelGroup> {
    const name = 'taskqueue-primary';
    const started: RedisServer[] = [];
    try {
      const primary = await RedisServer.start({ persistence, ...options });
      started.push(primary);
      const replica = await RedisServer.start({ persistence, replicaOf: { host: HOST, port: primary.port }, ...options });
      started.push(replica);
      await until(async () => (await redisCli(replica.port, ['info', 'replication'])).includes('master_link_status:up'), 'the replica in sync', timeoutMs);
      const monitor: SentinelMonitor = { name, host: HOST, port: primary.port, quorum: 2, downAfterMs: 1000, failoverTimeoutMs: 5000 };
      const sentinels: RedisServer[] = [];
      for (let i = 0; i < 3; i += 1) {
        const sentinel = await RedisServer.start({ persistence: 'none', sentinel: monitor, ...options });
        started.push(sentinel);
        sentinels.push(sentinel);
      }
      const group = new RedisSentinelGroup(name, primary, replica, sentinels);
      // Every sentinel knows the replica and the other sentinels, so a failover can be agreed at once.
      await until(
        async () =>
          (await Promise.all(sentinels.map((s) => redisCli(s.port, ['sentinel', 'master', name])))).every(
            (info) => /num-slaves\n1\n/.test(info) && /num-other-sentinels\n2\n/.test(info),
          ),
        'the sentinels to find the replica and each other',
        timeoutMs,
      );
      return group;
    } catch (err) {
      await Promise.all(started.map((s) => s.destroy()));
      throw err;
    }
  }

  /** REDIS_SENTINELS for the service. */
  get sentinelAddresses(): string {
    return this.sentinels.map((s) => `${HOST}:${s.port}`).join(',');
  }

  /** The port of the primary the sentinels name now. */
  async primaryPort(): Promise<number> {
    const reply = await redisCli(this.sentinels[0].port, ['sentinel', 'get-master-addr-by-name', this.name]);
    return Number(reply.trim().split('\n')[1]);
  }

  async stop(): Promise<void> {
    await Promise.all([this.primary, this.replica, ...this.sentinels].map((s) => s.destroy()));
  }
}
