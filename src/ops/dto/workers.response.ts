import { ApiProperty } from '@nestjs/swagger';
import type { WorkerEntry } from '../../queue/worker-registry';

export class WorkerResponse {
  @ApiProperty({ example: 'worker-7f9c-4121', description: '`<host>-<pid>`; the worker ids in a task history start with it' })
  id: string;

  @ApiProperty({ example: 'worker-7f9c' })
  host: string;

  @ApiProperty({ example: 4121 })
  pid: number;

  @ApiProperty({ enum: ['all', 'worker'], description: 'APP_ROLE of the process' })
  role: string;

  @ApiProperty({ type: [String], example: ['default'], description: 'queues it takes tasks from' })
  queues: string[];

  @ApiProperty({ example: 3, description: 'WORKER_COUNT: tasks it runs at a time' })
  concurrency: number;

  @ApiProperty({ example: 2, description: 'handlers running at its last heartbeat' })
  in_flight: number;

  @ApiProperty({ format: 'date-time', description: 'when the process started' })
  started_at: string;

  @ApiProperty({ format: 'date-time', description: "its last heartbeat, by Redis' clock (one every TASK_LEASE_MS / 3)" })
  last_heartbeat_at: string;
}

export class WorkersResponse {
  @ApiProperty({ type: [WorkerResponse], description: 'live worker processes, by id' })
  workers: WorkerResponse[];
}

export function toWorkerResponse(w: WorkerEntry): WorkerResponse {
  return {
    id: w.id,
    host: w.host,
    pid: w.pid,
    role: w.role,
    queues: w.queues,
    concurrency: w.concurrency,
    in_flight: w.inFlight,
    started_at: new Date(w.startedAt).toISOString(),
    last_heartbeat_at: new Date(w.lastHeartbeatAt).toISOString(),
  };
}
