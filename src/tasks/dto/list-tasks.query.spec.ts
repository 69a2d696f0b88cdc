import { BadRequestException, ValidationPipe } from '@nestjs/common';
import { createValidationPipe } from '../../http/validation.pipe';
import { ListTasksQuery } from './list-tasks.query';

describe('ListTasksQuery validation', () => {
  let pipe: ValidationPipe;

  beforeEach(() => {
    pipe = createValidationPipe();
  });

  const validate = (value: unknown): Promise<ListTasksQuery> =>
    pipe.transform(value, { type: 'query', metatype: ListTasksQuery }) as Promise<ListTasksQuery>;

  async function rejection(value: unknown): Promise<string> {
    const error = await validate(value).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(BadRequestException);
    return (error as BadRequestException).message;
  }

  describe('valid queries', () => {
    it('accepts an empty query', async () => {
      const result = await validate({});
      expect(result).toBeInstanceOf(ListTasksQuery);
      expect(result.status).toBeUndefined();
      expect(result.limit).toBeUndefined();
    });

    it.each(['pending', 'processing', 'completed', 'failed'])('accepts status=%s', async (status) => {
      await expect(validate({ status })).resolves.toEqual(expect.objectContaining({ status }));
    });

    it.each([
      ['1', 1],
      ['10', 10],
      ['100', 100],
      ['1000', 1000],
      ['007', 7],
    ])('turns limit=%p into the number %p', async (limit, expected) => {
      const result = await validate({ limit });
      expect(result.limit).toBe(expected);
      expect(typeof result.limit).toBe('number');
    });

    it('accepts every parameter together', async () => {
      const result = await validate({ status: 'failed', type: 'sum', limit: '50', cursor: 'abc_-123' });
      expect(result).toEqual(expect.objectContaining({ status: 'failed', type: 'sum', limit: 50, cursor: 'abc_-123' }));
    });

    it.each(['echo', 'my.type', 'a:b', 'x_y-z', 'A1'])('accepts type=%p', async (type) => {
      await expect(validate({ type })).resolves.toEqual(expect.objectContaining({ type }));
    });
  });

  describe('status', () => {
    it.each(['done', 'PENDING', '', 'pending '])('rejects status=%p', async (status) => {
      const message = await rejection({ status });
      expect(message).toBe('status must be one of: pending, processing, completed, failed');
    });

    it('rejects a repeated status (array value)', async () => {
      const message = await rejection({ status: ['pending', 'failed'] });
      expect(message).toContain('status must be one of');
    });
  });

  describe('limit', () => {
    it.each(['0', '1001', 'abc', '1.5', '', '-1', '1e2', ' 5', '0x10', '99999999'])('rejects limit=%p', async (limit) => {
      const message = await rejection({ limit });
      expect(message).toBe('limit must be an integer between 1 and 1000');
    });

    it('rejects a repeated limit (array value)', async () => {
      const message = await rejection({ limit: ['10', '20'] });
      expect(message).toContain('limit must be an integer between 1 and 1000');
    });
  });

  describe('type', () => {
    it('rejects a repeated type (array value)', async () => {
      const message = await rejection({ type: ['echo', 'sum'] });
      expect(message).toContain('type must be a single string');
    });

    it.each(['has space', 'semi;colon', 'slash/', 'ünï'])('rejects type=%p with characters outside the allowed set', async (type) => {
      const message = await rejection({ type });
      expect(message).toContain('type may only contain letters, digits and _ . : -');
    });

    it('rejects a type longer than 64 characters', async () => {
      const message = await rejection({ type: 'a'.repeat(65) });
      expect(message).toContain('type must be at most 64 characters');
    });
  });

  describe('cursor', () => {
    it('rejects a repeated cursor (array value)', async () => {
      const message = await rejection({ cursor: ['a', 'b'] });
      expect(message).toContain('cursor must be a single string');
    });

    it('rejects an overlong cursor', async () => {
      const message = await rejection({ cursor: 'a'.repeat(201) });
      expect(message).toBe('cursor is not valid');
    });
  });

  describe('unknown parameters', () => {
    it('rejects an unknown query parameter and names it', async () => {
      const message = await rejection({ page: '2' });
      expect(message).toContain('page');
      expect(message).toMatch(/should not exist/);
    });

    it('names every bad parameter in one message', async () => {
      const message = await rejection({ status: 'nope', limit: '0', sort: 'asc' });
      expect(message).toContain('status must be one of');
      expect(message).toContain('limit must be an integer between 1 and 1000');
      expect(message).toContain('sort');
      expect(message.split('; ')).toHaveLength(3);
    });
  });
});
