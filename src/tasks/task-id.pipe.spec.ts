import { TaskNotFoundError } from '../queue/queue-errors';
import { TaskIdPipe } from './task-id.pipe';

describe('TaskIdPipe', () => {
  const pipe = new TaskIdPipe();

  it('takes a base64url id as it is: case-sensitive', () => {
    expect(pipe.transform('AbC_-0123456789xyzXYZ_')).toBe('AbC_-0123456789xyzXYZ_');
    expect(pipe.transform('emails.AbC_-0123456789xyzXYZ_')).toBe('emails.AbC_-0123456789xyzXYZ_');
  });

  it('reads a UUID id (issued before) in lower case, as before', () => {
    expect(pipe.transform('0F8FAD5B-D9CB-469F-A165-70867728950E')).toBe('0f8fad5b-d9cb-469f-a165-70867728950e');
    expect(pipe.transform('EMAILS.0f8fad5b-d9cb-469f-a165-70867728950e')).toBe('emails.0f8fad5b-d9cb-469f-a165-70867728950e');
  });

  it.each(['not-a-uuid', 'a'.repeat(21), `EMAILS.${'a'.repeat(22)}`, `${'a'.repeat(22)}/..`, ''])('answers 404 for %p', (id) => {
    expect(() => pipe.transform(id)).toThrow(TaskNotFoundError);
  });
});
