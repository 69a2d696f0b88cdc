import { ApiProperty } from '@nestjs/swagger';

export class StateCounts {
  @ApiProperty({ description: 'pending tasks, scheduled ones included' })
  pending: number;

  @ApiProperty({ description: 'pending tasks whose time to run is still ahead (delayed, or waiting for a retry)' })
  scheduled: number;

  @ApiProperty()
  processing: number;

  @ApiProperty()
  completed: number;

  @ApiProperty()
  failed: number;
}

export class QueueStats {
  @ApiProperty({ example: 'default' })
  name: string;

  @ApiProperty({ description: 'workers lease nothing from it' })
  paused: boolean;

  @ApiProperty({ type: StateCounts })
  counts: StateCounts;

  @ApiProperty({ description: 'how long the oldest due task has waited (ms); 0 when none is due' })
  latency_ms: number;
}

export class WindowCounts {
  @ApiProperty({ description: 'in the last 60 s (the current minute, plus the part of the previous one still inside the window, pro rata)' })
  last_minute: number;

  @ApiProperty({ description: 'in the last 60 minutes (the current minute and the 59 before it)' })
  last_hour: number;
}

export class ThroughputMinute {
  @ApiProperty({ format: 'date-time', description: "start of the minute (Redis' clock)" })
  minute: string;

  @ApiProperty({ description: 'tasks completed in that minute' })
  completed: number;

  @ApiProperty({ description: 'tasks failed for good in that minute' })
  failed: number;
}

export class RedisStats {
  @ApiProperty({ example: '7.2.4' })
  version: string;

  @ApiProperty({ description: 'INFO memory used_memory (bytes)' })
  used_memory: number;
}

export class StatsResponse {
  @ApiProperty({ type: StateCounts, description: 'every queue together' })
  counts: StateCounts;

  @ApiProperty({ type: [QueueStats] })
  queues: QueueStats[];

  @ApiProperty({ type: WindowCounts, description: 'tasks that reached a final state (completed or failed)' })
  processed: WindowCounts;

  @ApiProperty({ type: WindowCounts, description: 'tasks that failed for good' })
  failed: WindowCounts;

  @ApiProperty({ type: [ThroughputMinute], description: '60 entries, oldest first, the current minute last' })
  throughput: ThroughputMinute[];

  @ApiProperty({ description: 'the largest latency_ms of the queues' })
  latency_ms: number;

  @ApiProperty({ description: 'live worker processes (GET /workers)' })
  workers: number;

  @ApiProperty({ type: RedisStats })
  redis: RedisStats;
}
