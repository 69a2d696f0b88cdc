import { DynamicModule, ModuleMetadata, Module, Type } from '@nestjs/common';
import { TASK_TYPE_METADATA } from './task-handler';

export interface TaskHandlersFeatureOptions {
  /** Modules the handlers' own dependencies come from (their providers must be exported there). */
  imports?: ModuleMetadata['imports'];
}

/**
 * How task types are registered: `TaskHandlersModule.forFeature([ResizeImageHandler])` in the imports of
 * the module that owns the handlers. The handlers become providers of that feature (so they can inject
 * what `imports` exports, and anything global such as APP_CONFIG); HandlerRegistry finds them at boot
 * by their @TaskHandler metadata. A class without @TaskHandler fails here, when the module is declared.
 */
@Module({})
export class TaskHandlersModule {
  static forFeature(handlers: Type[], options: TaskHandlersFeatureOptions = {}): DynamicModule {
    const undecorated = handlers
      .filter((h) => typeof h !== 'function' || Reflect.getMetadata(TASK_TYPE_METADATA, h) === undefined)
      .map((h) => (typeof h === 'function' ? h.name : String(h)));
    if (undecorated.length > 0) {
      throw new Error(`TaskHandlersModule.forFeature: ${undecorated.join(', ')} ${undecorated.length === 1 ? 'has' : 'have'} no @TaskHandler('type') decorator`);
    }
    return { module: TaskHandlersModule, imports: options.imports ?? [], providers: handlers, exports: handlers };
  }
}
