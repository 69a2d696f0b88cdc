import { BadRequestException } from '@nestjs/common';
import { CreateTaskDto } from '../tasks/dto/create-task.dto';
import { ListTasksQuery } from '../tasks/dto/list-tasks.query';
import { createValidationPipe } from './validation.pipe';

const pipe = createValidationPipe();
const messageOf = async (value: unknown, metatype: new () => object, type: 'body' | 'query' = 'body'): Promise<string> => {
  const err: unknown = await pipe.transform(value, { type, metatype }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BadRequestException);
  return ((err as BadRequestException).getResponse() as { message: string }).message;
};

describe('createValidationPipe', () => {
  it.each(['__proto__', 'prototype', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'])(
    'rejects a body field named %s like any unknown field (the transform would drop it silently)',
    async (key) => {
      const body = JSON.parse(`{"type":"echo",${JSON.stringify(key)}:1}`) as unknown;
      expect(await messageOf(body, CreateTaskDto)).toBe(`property ${key} should not exist`);
    },
  );

  it('names such a field together with the other bad fields', async () => {
    expect(await messageOf({ type: 5, toString: 'x', urgency: 1 }, CreateTaskDto)).toBe(
      'property toString should not exist; property urgency should not exist; type must be a string',
    );
  });

  it.each(['__proto__', 'constructor', 'toString', 'valueOf'])('rejects %s inside a nested object (backoff), named by its path', async (key) => {
    const body = JSON.parse(`{"type":"echo","backoff":{"type":"fixed",${JSON.stringify(key)}:1}}`) as unknown;
    expect(await messageOf(body, CreateTaskDto)).toBe(`property backoff.${key} should not exist`);
  });

  it('rejects such a query parameter too', async () => {
    const query = Object.assign(Object.create(null) as object, { limit: '5', constructor: 'x' });
    expect(await messageOf(query, ListTasksQuery, 'query')).toBe('property constructor should not exist');
  });

  it('still accepts a valid body and leaves values it does not validate alone', async () => {
    await expect(pipe.transform({ type: 'echo', payload: 'x' }, { type: 'body', metatype: CreateTaskDto })).resolves.toEqual({ type: 'echo', payload: 'x' });
    await expect(pipe.transform('toString', { type: 'param', metatype: String })).resolves.toBe('toString');
  });
});
