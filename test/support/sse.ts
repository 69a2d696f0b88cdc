import { ClientRequest, IncomingMessage, request } from 'node:http';

export interface SseEvent {
  event: string;
  data: string;
}

/** A Server-Sent Events client over plain node:http, for tests: collects events and comments. */
export interface EventStreamClient {
  /** The response head (status, headers). */
  response: IncomingMessage;
  /** Every event received so far, in order. */
  events: SseEvent[];
  /** Comment lines received so far (without the leading ':'). */
  comments: string[];
  /** Resolves once the server has ended the stream (or the connection closed). */
  ended: Promise<void>;
  /** Resolves once at least `n` events were received (rejects if the stream ends first). */
  waitForEvents(n: number): Promise<SseEvent[]>;
  /** The body as text, for non-stream answers (404, 503...). */
  body(): string;
  /** Closes the connection from the client side. */
  close(): void;
}

export function openEventStream(url: string, headers: Record<string, string> = {}): Promise<EventStreamClient> {
  return new Promise((resolve, reject) => {
    const req: ClientRequest = request(url, { headers: { Accept: 'text/event-stream', ...headers } }, (res) => {
      res.setEncoding('utf8');
      const events: SseEvent[] = [];
      const comments: string[] = [];
      let raw = '';
      let buffer = '';
      const waiters: Array<{ n: number; resolve: (e: SseEvent[]) => void; reject: (e: Error) => void }> = [];
      let done = false;
      const settleWaiters = () => {
        for (const w of [...waiters]) {
          if (events.length >= w.n) {
            waiters.splice(waiters.indexOf(w), 1);
            w.resolve(events.slice());
          } else if (done) {
            waiters.splice(waiters.indexOf(w), 1);
            w.reject(new Error(`stream ended after ${events.length} events: ${JSON.stringify(events.map((e) => e.event))}`));
          }
        }
      };
      res.on('data', (chunk: string) => {
        raw += chunk;
        buffer += chunk;
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = 'message';
          const data: string[] = [];
          let isEvent = false;
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) comments.push(line.slice(1).trim());
            else if (line.startsWith('event: ')) {
              event = line.slice(7);
              isEvent = true;
            } else if (line.startsWith('data: ')) {
              data.push(line.slice(6));
              isEvent = true;
            }
          }
          if (isEvent) events.push({ event, data: data.join('\n') });
        }
        settleWaiters();
      });
      const ended = new Promise<void>((resolveEnd) => {
        const finish = () => {
          done = true;
          settleWaiters();
          resolveEnd();
        };
        res.on('end', finish);
        res.on('close', finish);
        res.on('error', finish);
      });
      resolve({
        response: res,
        events,
        comments,
        ended,
        waitForEvents: (n) =>
          new Promise((res2, rej2) => {
            waiters.push({ n, resolve: res2, reject: rej2 });
            settleWaiters();
          }),
        body: () => raw,
        close: () => req.destroy(),
      });
    });
    req.on('error', reject);
    req.end();
  });
}
