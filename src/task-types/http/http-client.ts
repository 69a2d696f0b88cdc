import { lookup as dnsLookup, LookupAddress, LookupAllOptions } from 'node:dns';
import { LookupFunction } from 'node:net';
import { OnApplicationShutdown } from '@nestjs/common';
import { Agent } from 'undici';
import { Clock } from '../../common/clock';
import { settlesWithin } from '../../common/deadline';
import { NonRetryableError, TaskAbortedError } from '../task-handler';
import { HostPolicy } from './host-policy';
import { HttpTaskSpec } from './http-payload';
import { taskHeaders } from './request-signer';
import { HttpTaskResponse } from './response-mapper';

/** dns.lookup's `all: true` form; injected by tests to resolve names to chosen addresses. */
export type DnsLookupAll = (
  hostname: string,
  options: LookupAllOptions,
  callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

export interface HttpTaskClientOptions {
  policy: HostPolicy;
  clock: Clock;
  /** Key of X-Task-Signature; undefined: no signature header. */
  signingSecret?: string;
  maxResponseBytes: number;
  /** Redirects followed by hand, each hop's host checked against the policy. */
  maxRedirects?: number;
  lookup?: DnsLookupAll;
}

/** A host resolved only to addresses the policy forbids (the task fails without retry). */
export class BlockedAddressError extends NonRetryableError {
  readonly code = 'ERR_HTTP_TASK_BLOCKED_ADDRESS';
  constructor(message: string) {
    super(message);
    this.name = 'BlockedAddressError';
  }
}

export const DEFAULT_MAX_REDIRECTS = 5;
/** How long shutdown waits for the pool's connections to close gracefully, then again after destroying them. */
const CLOSE_DEADLINE_MS = 1000;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
/** Not sent to another origin after a redirect (as browsers do). */
const CREDENTIAL_HEADERS = ['authorization', 'cookie'];
const USER_AGENT = 'taskqueue-http-task';

/**
 * The lookup the connection pool uses: resolves as usual, then drops every address the policy refuses
 * for this host name. Checking here, when the socket connects, covers every connection the pool opens
 * (including a redirect's and a reconnect after keep-alive), so a name that resolves to another address
 * later (DNS rebinding) cannot reach a refused one. IP literals never reach a lookup: HostPolicy checks them.
 */
export function guardedLookup(policy: HostPolicy, resolve: DnsLookupAll = dnsLookup): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '');
      const allowed = addresses.filter((a) => policy.addressProblem(hostname, a.address) === undefined);
      if (allowed.length === 0) {
        const problem = addresses.length === 0 ? 'no address' : policy.addressProblem(hostname, addresses[0].address);
        return callback(new BlockedAddressError(`host "${hostname}" refused: ${problem}`), '');
      }
      if (options.all) return callback(null, allowed);
      callback(null, allowed[0].address, allowed[0].family);
    });
  };
}

/**
 * Calls an http task's URL through one keep-alive pool per process (created on first use, so API-only
 * processes never open one; closed on shutdown within a deadline). Redirects are followed by hand; the
 * X-Task-* headers are computed for each hop's request.
 */
export class HttpTaskClient implements OnApplicationShutdown {
  private agent?: Agent;
  private readonly maxRedirects: number;

  constructor(private readonly options: HttpTaskClientOptions) {
    this.maxRedirects = options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  }

  get policy(): HostPolicy {
    return this.options.policy;
  }

  /**
   * Resolves with the response (its body capped), whatever its status. Rejects with TaskAbortedError
   * when `signal` aborts, a retryable Error on timeout or a network failure, and NonRetryableError when
   * a redirect leads somewhere the policy refuses or a host resolves only to refused addresses.
   */
  async call(spec: HttpTaskSpec, meta: { taskId: string; attempt: number }, signal: AbortSignal): Promise<HttpTaskResponse> {
    const timeout = AbortSignal.timeout(spec.timeoutMs);
    const both = AbortSignal.any([signal, timeout]);
    let { url, method, body } = spec;
    const headers = { ...spec.headers };
    for (let hop = 0; ; hop += 1) {
      let response: Omit<HttpTaskResponse, 'redirected'> | { location: string; status: number };
      try {
        response = await this.send(url, method, headers, body, meta, both);
      } catch (err) {
        if (signal.aborted) throw new TaskAbortedError();
        if (timeout.aborted) throw new Error(`timeout after ${spec.timeoutMs} ms (payload timeout_ms)`);
        const blocked = blockedCause(err);
        if (blocked) throw blocked;
        throw new Error(`request to ${url.origin} failed: ${describe(err)}`);
      }
      if (!('location' in response)) return { ...response, redirected: hop > 0 };
      if (hop === this.maxRedirects) throw new NonRetryableError(`more than ${this.maxRedirects} redirects (last to ${response.location})`);
      const next = this.redirectTarget(url, response.location);
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        // As browsers do: the next request is a GET without the body.
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
        delete headers['content-type'];
      }
      if (next.origin !== url.origin) for (const name of CREDENTIAL_HEADERS) delete headers[name];
      url = next;
    }
  }

  /** Closes the pool's connections within a deadline; shutdown never waits on a remote server for longer. */
  async close(): Promise<void> {
    const agent = this.agent;
    if (!agent) return;
    this.agent = undefined;
    if (!(await settlesWithin(agent.close(), CLOSE_DEADLINE_MS))) await settlesWithin(agent.destroy(), CLOSE_DEADLINE_MS);
  }

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }

  private redirectTarget(from: URL, location: string): URL {
    let next: URL;
    try {
      next = new URL(location, from);
    } catch {
      throw new NonRetryableError(`redirect to an invalid URL refused: ${location.slice(0, 200)}`);
    }
    if (next.protocol !== 'http:' && next.protocol !== 'https:') {
      throw new NonRetryableError(`redirect to a ${next.protocol.slice(0, -1)} URL refused`);
    }
    const problem = this.options.policy.hostProblem(next.hostname);
    if (problem !== undefined) throw new NonRetryableError(`redirect to ${next.origin} refused: ${problem}`);
    next.hash = '';
    return next;
  }

  private async send(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: string | undefined,
    meta: { taskId: string; attempt: number },
    signal: AbortSignal,
  ): Promise<Omit<HttpTaskResponse, 'redirected'> | { location: string; status: number }> {
    const timestamp = Math.floor(this.options.clock.now() / 1000);
    const response = await this.pool().request({
      origin: url.origin,
      path: `${url.pathname}${url.search}`,
      method: method as 'GET',
      headers: { 'user-agent': USER_AGENT, ...headers, ...taskHeaders(meta, timestamp, body ?? '', this.options.signingSecret) },
      body,
      signal,
    });
    const location = response.headers.location;
    if (REDIRECT_STATUSES.has(response.statusCode) && typeof location === 'string') {
      await response.body.dump();
      return { location, status: response.statusCode };
    }
    const max = this.options.maxResponseBytes;
    const chunks: Buffer[] = [];
    let size = 0;
    let truncated = false;
    for await (const chunk of response.body as AsyncIterable<Buffer>) {
      if (size + chunk.length > max) {
        chunks.push(chunk.subarray(0, max - size));
        size = max;
        truncated = true;
        break; // ends the iteration, which destroys the body stream: the rest is never read
      }
      chunks.push(chunk);
      size += chunk.length;
    }
    return { status: response.statusCode, headers: response.headers, body: Buffer.concat(chunks, size), truncated, url };
  }

  private pool(): Agent {
    this.agent ??= new Agent({ connect: { lookup: guardedLookup(this.options.policy, this.options.lookup), timeout: 10_000 } });
    return this.agent;
  }
}

/** The BlockedAddressError behind a failed request, if that is why it failed. */
function blockedCause(err: unknown): BlockedAddressError | undefined {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth += 1) {
    if (e instanceof BlockedAddressError) return e;
  }
  return undefined;
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const cause = err.cause instanceof Error ? ` (${err.cause.message})` : '';
  return `${err.message || err.name}${code ? ` [${code}]` : ''}${cause}`;
}
