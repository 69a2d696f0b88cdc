import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller';
import { ProcessHealthIndicator } from './process.health';
import { RedisHealthIndicator } from './redis.health';

@Module({
  // Terminus' own logger would print every failed probe as a multi-line block; the 503 says enough.
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController],
  providers: [RedisHealthIndicator, ProcessHealthIndicator],
})
export class HealthModule {}
