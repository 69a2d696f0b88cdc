import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { ProcessState } from '../lifecycle/process-state';

@Injectable()
export class ProcessHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly state: ProcessState,
  ) {}

  /** Down once shutdown has begun, so Kubernetes stops routing here while work drains. */
  acceptingTraffic(key = 'process') {
    const indicator = this.indicators.check(key);
    return this.state.shuttingDown ? indicator.down({ message: 'shutting down' }) : indicator.up();
  }

  /** The worker pool's fetch loop, when this process runs workers. */
  workers(key = 'workers') {
    const indicator = this.indicators.check(key);
    const status = this.state.workerStatus();
    if (!status) return indicator.up({ role: 'no workers in this process' });
    return status.healthy ? indicator.up(status.details) : indicator.down(status.details);
  }
}
