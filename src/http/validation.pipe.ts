import { ArgumentMetadata, BadRequestException, Type, ValidationError, ValidationPipe } from '@nestjs/common';

/** One message per broken rule, each naming the field by its path from `parent` (`payload.width must be ...`). */
export function validationMessages(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((m) =>
      m.includes(e.property) ? m.replace(e.property, path) : `${path}: ${m}`,
    );
    return [...own, ...validationMessages(e.children ?? [], path)];
  });
}

const OPAQUE_JSON_METADATA = 'taskqueue:opaque-json';

/**
 * The property holds any JSON value (a task's payload), handed on exactly as it was sent: the pipe takes
 * it out of a top-level body before the transform and validation of the rest, and puts it back after, so
 * nothing strips, copies or rejects its keys (`constructor`, `toString` are fine payload keys). Its checks
 * are the handler's (TaskTypeDefinition). Use with @Allow() so that nested uses are whitelisted too.
 */
export function OpaqueJson(): PropertyDecorator {
  return (target, key) => {
    const owner = target.constructor;
    const keys = (Reflect.getMetadata(OPAQUE_JSON_METADATA, owner) as Array<string | symbol> | undefined) ?? [];
    Reflect.defineMetadata(OPAQUE_JSON_METADATA, [...keys, key], owner);
  };
}

function opaqueKeys(metatype: Type | undefined): string[] {
  if (typeof metatype !== 'function') return [];
  return ((Reflect.getMetadata(OPAQUE_JSON_METADATA, metatype) as unknown[] | undefined) ?? []).filter((k): k is string => typeof k === 'string');
}

/**
 * Own keys the transform drops without a word, so `forbidNonWhitelisted` never sees them: Nest
 * deletes `__proto__`, `prototype` and `constructor`, and class-transformer skips names of
 * inherited methods (`toString`, `hasOwnProperty`, ...). They are unknown fields like any other, also
 * inside a nested object (a task's `backoff`), named by their path (`backoff.toString`).
 */
function silentlyDroppedKeys(value: unknown, path = '', depth = 0): string[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || depth > 4) return [];
  return Object.keys(value).flatMap((key) =>
    key === 'prototype' || key in Object.prototype
      ? [`${path}${key}`]
      : silentlyDroppedKeys((value as Record<string, unknown>)[key], `${path}${key}.`, depth + 1),
  );
}

const PLAINLY_VALID_METADATA = 'taskqueue:plainly-valid';

/**
 * A fast yes for the class: `check` accepts only values the class's full validation accepts unchanged
 * (a plain JSON object with no unknown key and every field valid; it never rejects, a "no" means "ask
 * the full validation", which also writes the message). The pipe then hands such a value on as it is,
 * without class-transformer's copy and class-validator's reflection: the cost of a plain
 * POST /tasks body. Only the class itself, not its subclasses (they may have other fields).
 */
export function PlainlyValidWhen(check: (value: unknown) => boolean): ClassDecorator {
  return (target) => Reflect.defineMetadata(PLAINLY_VALID_METADATA, check, target);
}

function plainlyValidCheck(metatype: Type | undefined): ((value: unknown) => boolean) | undefined {
  return typeof metatype === 'function' ? (Reflect.getOwnMetadata(PLAINLY_VALID_METADATA, metatype) as ((value: unknown) => boolean) | undefined) : undefined;
}

class StrictValidationPipe extends ValidationPipe {
  constructor(
    options: ConstructorParameters<typeof ValidationPipe>[0],
    private readonly fastPaths: boolean,
  ) {
    super(options);
  }

  /** Per metatype, read once (metadata is written by decorators when the class is defined). */
  private readonly byMetatype = new Map<unknown, { check: ((value: unknown) => boolean) | undefined; keys: string[] }>();

  private metadataOf(metatype: Type | undefined): { check: ((value: unknown) => boolean) | undefined; keys: string[] } {
    let found = this.byMetatype.get(metatype);
    if (found === undefined) {
      found = { check: this.fastPaths ? plainlyValidCheck(metatype) : undefined, keys: opaqueKeys(metatype) };
      this.byMetatype.set(metatype, found);
    }
    return found;
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const { check, keys } = this.metadataOf(metadata.metatype);
    if (check !== undefined && check(value) === true) return value;
    if (keys.length === 0 || value === null || typeof value !== 'object' || Array.isArray(value)) return this.strictTransform(value, metadata);
    const rest: Record<string, unknown> = { ...value };
    const held: Record<string, unknown> = {};
    for (const key of keys) {
      if (!Object.prototype.hasOwnProperty.call(rest, key)) continue;
      held[key] = rest[key];
      delete rest[key];
    }
    return Object.assign((await this.strictTransform(rest, metadata)) as object, held);
  }

  private async strictTransform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    // Read before super.transform, which deletes some of these keys from `value` in place.
    const dropped = this.toValidate(metadata) ? silentlyDroppedKeys(value) : [];
    if (dropped.length === 0) return super.transform(value, metadata);
    const messages = dropped.map((key) => `property ${key} should not exist`);
    try {
      await super.transform(value, metadata);
    } catch (err) {
      if (!(err instanceof BadRequestException)) throw err;
      messages.push((err.getResponse() as { message: string }).message);
    }
    throw new BadRequestException(messages.join('; '));
  }
}

/**
 * Strict validation of bodies and queries: unknown fields are rejected by name, nothing is coerced
 * implicitly ("3" is not an integer), and the 400 names every bad field in one message.
 * `fastPaths: false` always runs the full validation, ignoring PlainlyValidWhen (the spec that checks a
 * fast check against the full validation).
 */
export function createValidationPipe({ fastPaths = true }: { fastPaths?: boolean } = {}): ValidationPipe {
  return new StrictValidationPipe({
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    transform: true,
    // One message per field: the first rule it breaks, not every rule that follows from it.
    stopAtFirstError: true,
    transformOptions: { enableImplicitConversion: false },
    exceptionFactory: (errors) => new BadRequestException([...new Set(validationMessages(errors))].join('; ')),
  }, fastPaths);
}
