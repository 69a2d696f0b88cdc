/** No schedule has this id. Maps to 404. */
export class ScheduleNotFoundError extends Error {
  constructor(readonly scheduleId: string) {
    super(`schedule ${scheduleId} not found`);
    this.name = 'ScheduleNotFoundError';
  }
}

/** SCHEDULES_MAX schedules exist already. Maps to 409. */
export class ScheduleLimitError extends Error {
  constructor(max: number) {
    super(`at most ${max} schedules may exist; delete one first`);
    this.name = 'ScheduleLimitError';
  }
}
