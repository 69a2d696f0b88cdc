import { Controller, Get, Module, Post } from '@nestjs/common';

const CONSTANT = {
  id: '00000000-0000-4000-8000-000000000000',
  type: 'echo',
  payload: 'hello world',
  status: 'pending',
  retries: 0,
  max_retry: 3,
  attempts: 0,
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
};

/** The framework's ceiling: POST /tasks (JSON body parsed by Nest's default parser) returns a constant, 201. */
@Controller()
export class ConstantController {
  @Post('tasks')
  create() {
    return CONSTANT;
  }

  @Get('health')
  health() {
    return { status: 'ok' };
  }
}

@Module({ controllers: [ConstantController] })
export class ConstantAppModule {}
