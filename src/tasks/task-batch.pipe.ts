import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { createValidationPipe } from '../http/validation.pipe';
import { CreateBatchTaskDto } from './dto/create-batch-task.dto';
import { isPlainlyValidBatchElement } from './dto/create-task.prevalidate';
import { assertTaskBatch } from './require-json.middleware';

const MAX_REPORTED = 20;

/**
 * Validates each element of a batch like a single POST /tasks body plus its own idempotency_key
 * (CreateBatchTaskDto; plainly valid ones through the fast check, the rest through the
 * ValidationPipe); errors name the index.
 */
@Injectable()
export class TaskBatchPipe implements PipeTransform<unknown, Promise<CreateBatchTaskDto[]>> {
  private readonly single = createValidationPipe();

  async transform(items: unknown, _meta: ArgumentMetadata): Promise<CreateBatchTaskDto[]> {
    // The middleware checks this first; checked again so that no route or middleware change can
    // hand a non-array to the loop below (a TypeError there was a 500).
    assertTaskBatch(items);
    const problems: string[] = [];
    const out: CreateBatchTaskDto[] = [];
    for (const [i, item] of items.entries()) {
      if (isPlainlyValidBatchElement(item)) {
        out.push(item);
        continue;
      }
      try {
        out.push(await this.single.transform(item, { type: 'body', metatype: CreateBatchTaskDto }));
      } catch (err) {
        problems.push(`[${i}] ${err instanceof BadRequestException ? (err.getResponse() as { message: string }).message : String(err)}`);
      }
    }
    if (problems.length > 0) {
      const more = problems.length > MAX_REPORTED ? `; and ${problems.length - MAX_REPORTED} more` : '';
      throw new BadRequestException(`no task was created: ${problems.slice(0, MAX_REPORTED).join('; ')}${more}`);
    }
    return out;
  }
}
