import { Body, Controller, Delete, Get, HttpCode, Param, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNoContentResponse, ApiOkResponse, ApiOperation, ApiParam, ApiTags } from '@nestjs/swagger';
import { ApiErrors, ApiKeyProtected } from '../http/api-errors.decorator';
import { CreateScheduleDto } from './dto/create-schedule.dto';
import { ScheduleListResponse, ScheduleResponse, toScheduleResponse } from './schedule-response';
import { SCHEDULES_MAX, SchedulesService } from './schedules.service';

const ID_PARAM = ApiParam({ name: 'id', format: 'uuid', description: 'schedule id (a UUID; anything else is 404)' });
const NOT_FOUND = 'no schedule has this id';

/** Periodic schedules (README "Schedules"). Not edited in place: delete and create another. */
@ApiTags('schedules')
@ApiKeyProtected()
@Controller('schedules')
export class SchedulesController {
  constructor(private readonly schedules: SchedulesService) {}

  @Post()
  @ApiOperation({
    summary: 'Create a periodic schedule',
    description: 'Every tick of the cron expression (read in the time zone) creates one task, whatever the number of processes.',
  })
  @ApiCreatedResponse({ type: ScheduleResponse, description: 'the schedule created; next_run_at is its first tick' })
  @ApiErrors({
    400: 'body is not valid: cron, timezone, or the task (validated as POST /tasks validates it); the message names each field',
    409: `${SCHEDULES_MAX} schedules exist already`,
    413: 'the task payload is larger than MAX_PAYLOAD_BYTES',
  })
  async create(@Body() dto: CreateScheduleDto): Promise<ScheduleResponse> {
    return toScheduleResponse(await this.schedules.create(dto));
  }

  @Get()
  @ApiOperation({ summary: 'List schedules', description: `Every schedule (at most ${SCHEDULES_MAX}), oldest first.` })
  @ApiOkResponse({ type: ScheduleListResponse, description: 'every schedule' })
  @ApiErrors({})
  async list(): Promise<ScheduleListResponse> {
    return { schedules: (await this.schedules.list()).map(toScheduleResponse) };
  }

  @Get(':id')
  @ApiOperation({ summary: 'Get a schedule' })
  @ID_PARAM
  @ApiOkResponse({ type: ScheduleResponse, description: 'the schedule' })
  @ApiErrors({ 404: NOT_FOUND })
  async get(@Param('id') id: string): Promise<ScheduleResponse> {
    return toScheduleResponse(await this.schedules.get(id));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ summary: 'Delete a schedule', description: 'No task is created for it any more; tasks it created stay.' })
  @ID_PARAM
  @ApiNoContentResponse({ description: 'deleted' })
  @ApiErrors({ 404: NOT_FOUND })
  async delete(@Param('id') id: string): Promise<void> {
    await this.schedules.delete(id);
  }

  @Post(':id/pause')
  @HttpCode(200)
  @ApiOperation({ summary: 'Pause a schedule', description: 'Creates no task until resumed; pausing a paused schedule changes nothing.' })
  @ID_PARAM
  @ApiOkResponse({ type: ScheduleResponse, description: 'the schedule, paused' })
  @ApiErrors({ 404: NOT_FOUND })
  async pause(@Param('id') id: string): Promise<ScheduleResponse> {
    return toScheduleResponse(await this.schedules.pause(id));
  }

  @Post(':id/resume')
  @HttpCode(200)
  @ApiOperation({
    summary: 'Resume a schedule',
    description: 'Its next tick is the first after now: ticks that passed while it was paused create no task. Resuming an active schedule changes nothing.',
  })
  @ID_PARAM
  @ApiOkResponse({ type: ScheduleResponse, description: 'the schedule, active' })
  @ApiErrors({ 404: NOT_FOUND })
  async resume(@Param('id') id: string): Promise<ScheduleResponse> {
    return toScheduleResponse(await this.schedules.resume(id));
  }
}
