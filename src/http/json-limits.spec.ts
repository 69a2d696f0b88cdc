import { jsonShapeProblem, MAX_JSON_DEPTH, MAX_JSON_VALUES } from './json-limits';

const nested = (depth: number, open = '[', close = ']'): unknown => JSON.parse(`${open.repeat(depth)}1${close.repeat(depth)}`);

describe('jsonShapeProblem', () => {
  it.each([undefined, null, 1, 'text', true])('accepts the scalar %p', (value) => {
    expect(jsonShapeProblem(value)).toBeUndefined();
  });

  it('accepts every valid body shape: a task, a full batch of tasks', () => {
    expect(jsonShapeProblem({ type: 'echo', payload: 'x', max_retry: 3 })).toBeUndefined();
    const batch = Array.from({ length: 1000 }, () => ({ type: 'echo', payload: 'x', max_retry: 3 }));
    expect(jsonShapeProblem(batch)).toBeUndefined();
  });

  it(`accepts exactly ${MAX_JSON_DEPTH} levels and rejects one more`, () => {
    expect(jsonShapeProblem(nested(MAX_JSON_DEPTH))).toBeUndefined();
    expect(jsonShapeProblem(nested(MAX_JSON_DEPTH + 1))).toBe(`body is nested too deeply (more than ${MAX_JSON_DEPTH} levels)`);
  });

  it('rejects 100,000 levels of arrays or objects without overflowing the stack itself', () => {
    expect(jsonShapeProblem(nested(100_000))).toMatch(/nested too deeply/);
    expect(jsonShapeProblem({ type: 'echo', payload: nested(100_000, '{"a":', '}') })).toMatch(/nested too deeply/);
  });

  it(`rejects more than ${MAX_JSON_VALUES} values, wide or spread out`, () => {
    const wide = Object.fromEntries(Array.from({ length: MAX_JSON_VALUES }, (_, i) => [`k${i}`, 1]));
    expect(jsonShapeProblem(wide)).toMatch(/too many values/);
    expect(jsonShapeProblem({ type: 'echo', payload: wide })).toMatch(/too many values/);
    expect(jsonShapeProblem(Array.from({ length: 5000 }, () => [1]))).toMatch(/too many values/);
    expect(jsonShapeProblem(Array(MAX_JSON_VALUES - 1).fill(1))).toBeUndefined();
  });
});
