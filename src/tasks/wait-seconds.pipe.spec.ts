import { BadRequestException } from '@nestjs/common';
import { WaitSecondsPipe } from './wait-seconds.pipe';

describe('WaitSecondsPipe', () => {
  const pipe = new WaitSecondsPipe();

  it.each([
    ['1', 1],
    ['60', 60],
    ['07', 7],
  ])('accepts %j as %d seconds', (raw, seconds) => {
    expect(pipe.transform(raw)).toBe(seconds);
  });

  it('leaves an absent parameter absent', () => {
    expect(pipe.transform(undefined)).toBeUndefined();
  });

  it.each(['0', '61', '100', '1.5', '-1', '+5', ' 5', '5s', '', 'NaN', '1e1', '0x10', ['5', '6']])('rejects %j naming the parameter', (raw) => {
    expect(() => pipe.transform(raw)).toThrow(BadRequestException);
    expect(() => pipe.transform(raw)).toThrow('wait must be an integer between 1 and 60 (seconds)');
  });
});
