import { BeforeApplicationShutdown, Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { ProcessState } from './process-state';

/**
 * The HTTP side of a shutdown. onModuleDestroy (LifecycleModule is global, so it runs after the worker
 * pool has stopped fetching): readiness turns 503 at once, while the listener keeps accepting for
 * SHUTDOWN_READY_DELAY_MS, so a load balancer (a Kubernetes endpoint controller) sees the 503 and stops
 * routing here before any connection is refused. Then the listener closes: requests in progress are
 * answered, idle keep-alive sockets are closed. The delay runs alongside the worker pool's drain (the
 * next phase); beforeApplicationShutdown, which runs after the drain, waits for whatever is left of it,
 * so Nest cannot close the server early.
 */
@Injectable()
export class HttpShutdownService implements OnModuleDestroy, BeforeApplicationShutdown {
  private listenerClosed?: Promise<void>;

  constructor(
    private readonly state: ProcessState,
    private readonly adapterHost: HttpAdapterHost,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  onModuleDestroy(): void {
    this.state.markShuttingDown();
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    // Nothing listens (an application context, or a listen that failed): nobody to wait for.
    if (!server?.listening) return;
    this.listenerClosed = new Promise((resolve) => {
      setTimeout(() => {
        if (server.listening) {
          server.close();
          server.closeIdleConnections?.();
        }
        resolve();
      }, this.config.server.shutdownReadyDelayMs);
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.listenerClosed;
  }
}
