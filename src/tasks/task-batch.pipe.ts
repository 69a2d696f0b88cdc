import { ArgumentMetadata, BadRequestException, Injectable, PipeTransform } from '@nestjs/common';
import { createValidationPipe } from '../http/validation.pipe';
import { CreateBatchTaskDto } from './dto/create-batch-task.dto';
import type { CreateTaskDto } from './dto/create-task.dto';
import { isPlainlyValidBatchElement } from './dto/create-task.prevalidate';
import { assertTaskBatch, taskObjectProblem } from './require-json.middleware';
import { TasksService } from './tasks.service';

/** A field message about `type` or `payload`: the element's type and payload are then not checked. */
const TYPE_OR_PAYLOAD = /^(property )?(type|payload)\b/;

/**
 * Validates each element of a batch like a single POST /tasks body plus its own idempotency_key
 * (CreateBatchTaskDto; plainly valid ones through the fast check, the rest through the
 * ValidationPipe). When an element breaks a rule, the answer names every bad element by index: its
 * shape, its fields, and the type and payload checks of the others (TasksService.batchRejection).
 */
@Injectable()
export class TaskBatchPipe implements PipeTransform<unknown, Promise<CreateBatchTaskDto[]>> {
  private readonly single = createValidationPipe();

  constructor(private readonly tasks: TasksService) {}

  async transform(items: unknown, _meta: ArgumentMetadata): Promise<CreateBatchTaskDto[]> {
    // The middleware checks this first; checked again so that no route or middleware change can
    // hand a non-array to the loop below (a TypeError there was a 500).
    assertTaskBatch(items);
    const elements: Array<{ problem?: string; task?: CreateTaskDto }> = [];
    const out: CreateBatchTaskDto[] = [];
    let bad = false;
    for (const item of items) {
      if (isPlainlyValidBatchElement(item)) {
        out.push(item);
        elements.push({ task: item });
        continue;
      }
      const shape = taskObjectProblem(item);
      if (shape) {
        bad = true;
        elements.push({ problem: shape });
        continue;
      }
      try {
        const dto = await this.single.transform(item, { type: 'body', metatype: CreateBatchTaskDto });
        out.push(dto);
        elements.push({ task: dto });
      } catch (err) {
        if (!(err instanceof BadRequestException)) throw err;
        bad = true;
        const raw = (err.getResponse() as { message: string | string[] }).message;
        const messages = Array.isArray(raw) ? raw : raw.split('; ');
        const { type, payload } = item as { type?: unknown; payload?: CreateTaskDto['payload'] };
        const checkable = typeof type === 'string' && !messages.some((m) => TYPE_OR_PAYLOAD.test(m));
        elements.push({ problem: messages.join('; '), task: checkable ? { type, payload } : undefined });
      }
    }
    if (bad) throw this.tasks.batchRejection(elements);
    return out;
  }
}
