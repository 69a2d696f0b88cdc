import { Injectable, OnModuleDestroy } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { Server } from 'node:http';
import { ProcessState } from './process-state';

/**
 * First shutdown phase (onModuleDestroy runs in every module before any beforeApplicationShutdown):
 * readiness turns 503 and the listener stops taking new connections, while the worker pool drains in
 * the next phase. Requests already in progress are answered; idle keep-alive sockets are closed.
 */
@Injectable()
export class HttpShutdownService implements OnModuleDestroy {
  constructor(
    private readonly state: ProcessState,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  onModuleDestroy(): void {
    this.state.markShuttingDown();
    const server = this.adapterHost.httpAdapter?.getHttpServer() as Server | undefined;
    if (server?.listening) {
      server.close();
      server.closeIdleConnections?.();
    }
  }
}
