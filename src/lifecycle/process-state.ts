import { Injectable } from '@nestjs/common';

/** What the health probes need to know about this process beyond Redis. */
@Injectable()
export class ProcessState {
  private shuttingDownSince?: number;
  private workerProbe?: () => { healthy: boolean; details: Record<string, unknown> };
  private booted = false;
  private bootListeners: Array<() => void> = [];

  /**
   * Called once the app has finished booting (main.ts: after the listener is bound). Work that
   * leases tasks starts only then, so a process that fails to boot has taken nothing.
   */
  markBooted(): void {
    if (this.booted || this.shuttingDown) return;
    this.booted = true;
    const listeners = this.bootListeners;
    this.bootListeners = [];
    for (const listener of listeners) listener();
  }

  /** Runs `listener` once the app has booted (at once if it has). */
  onBooted(listener: () => void): void {
    if (this.booted) listener();
    else this.bootListeners.push(listener);
  }

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
