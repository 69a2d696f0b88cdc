import { decodeJsonValue, encodeJsonValue, JSON_MARK, JsonValue } from './json-value';

describe('encodeJsonValue / decodeJsonValue', () => {
  it.each<[string, JsonValue]>([
    ['an object', { width: 640, tags: ['a', 'b'], nested: { ok: true, none: null } }],
    ['an array', [1, 'two', null, false, { three: 3 }]],
    ['null', null],
    ['a number', 42.5],
    ['zero', 0],
    ['false', false],
    ['a string', 'hello'],
    ['the empty string', ''],
    ['a string that is JSON text', '{"a":1}'],
    ['a string beginning with the mark', `${JSON_MARK}not json`],
    ['keys that are Object.prototype names', JSON.parse('{"constructor":1,"toString":2,"__proto__":{"x":3}}') as JsonValue],
  ])('round-trips %s', (_name, value) => {
    expect(decodeJsonValue(encodeJsonValue(value))).toEqual(value);
  });

  it('stores a string as it is (the demo types keep their stored payloads and results)', () => {
    expect(encodeJsonValue('[1, 2, 5]')).toBe('[1, 2, 5]');
    expect(encodeJsonValue('echo: hi')).toBe('echo: hi');
  });

  it('stores any other value as the mark and its JSON text', () => {
    expect(encodeJsonValue({ a: 1 })).toBe(`${JSON_MARK}{"a":1}`);
    expect(encodeJsonValue(null)).toBe(`${JSON_MARK}null`);
  });

  it('reads a marked field that is not JSON as the text it is', () => {
    expect(decodeJsonValue(`${JSON_MARK}{oops`)).toBe(`${JSON_MARK}{oops`);
  });
});
