import { Injectable } from '@nestjs/common';

/** What the health probes need to know about this process beyond Redis. */
@Injectable()
export class ProcessState {
  private shuttingDownSince?: number;
  private workerProbe?: () => { healthy: boolean; details: Record<string, unknown> };

  get shuttingDown(): boolean {
    return this.shuttingDownSince !== undefined;
  }

  markShuttingDown(): void {
    this.shuttingDownSince ??= Date.now();
  }

  /** Registered by the worker pool when this process runs workers. */
  registerWorkerProbe(probe: () => { healthy: boolean; details: Record<string, unknown> }): void {
    this.workerProbe = probe;
  }

  workerStatus(): { healthy: boolean; details: Record<string, unknown> } | undefined {
    return this.workerProbe?.();
  }
}
