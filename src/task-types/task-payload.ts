import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { validationMessages } from '../http/validation.pipe';
import type { JsonValue } from '../queue/json-value';
import type { TaskTypeDefinition } from './handler-registry';

export type PayloadCheck = { ok: true; value: unknown } | { ok: false; problem: string };

/** What a request that leaves `payload` out submits: "" for a 'string' type (as the original service), null otherwise. */
export function absentPayload(def: TaskTypeDefinition): JsonValue {
  return def.options.payload === 'string' ? '' : null;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Checks a payload against its type, in order: its kind (a 'string' type takes strings only), the
 * type's payloadDto (the payload must be an object that satisfies it, unknown fields refused; the
 * handler then gets an instance of the class), then the handler's validatePayload. Runs at submit (a
 * problem is a 400) and before each run (a problem fails the task without retry). Synchronous, so a
 * payloadDto's async validators are not run. Messages name the field: `payload must be a string`,
 * `payload.width must be a positive integer`, `payload: <what validatePayload threw>`.
 */
export function checkPayload(def: TaskTypeDefinition, payload: JsonValue): PayloadCheck {
  const { options, handler } = def;
  if (options.payload === 'string' && typeof payload !== 'string') return { ok: false, problem: 'payload must be a string' };
  let value: unknown = payload;
  if (options.payloadDto) {
    if (!isPlainObject(payload)) return { ok: false, problem: 'payload must be a JSON object' };
    value = plainToInstance(options.payloadDto, payload, { enableImplicitConversion: false });
    const errors = validateSync(value as object, { whitelist: true, forbidNonWhitelisted: true, forbidUnknownValues: true, stopAtFirstError: true });
    if (errors.length > 0) return { ok: false, problem: [...new Set(validationMessages(errors, 'payload'))].join('; ') };
  }
  try {
    handler.validatePayload?.(value);
  } catch (err) {
    // Whatever a validator throws (InvalidPayloadError, a TypeError of its own, a string) is about
    // this payload: a 400 naming it, never a 500.
    return { ok: false, problem: `payload: ${err instanceof Error ? err.message : String(err)}` };
  }
  return { ok: true, value };
}
