import type { App } from 'supertest/types';
import request from 'supertest';
import { waitFor } from './wait';

/** The task once it is completed or failed, polled with GET /tasks/{id} (20 s at most). */
export function finishedTask<T = Record<string, unknown>>(http: App, id: string): Promise<T> {
  return waitFor(
    async () => {
      const { body } = await request(http).get(`/tasks/${id}`);
      return body.status === 'completed' || body.status === 'failed' ? (body as T) : undefined;
    },
    { timeoutMs: 20_000, what: `task ${id} to finish` },
  );
}
