import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { TASK_HANDLER_OPTIONS_METADATA, TASK_TYPE_METADATA, TaskHandler, TaskHandlerOptions } from './task-handler';

/** One registered task type: its handler instance and the options of its @TaskHandler. */
export interface TaskTypeDefinition {
  readonly type: string;
  readonly handler: TaskHandler;
  readonly options: TaskHandlerOptions;
}

/** Finds every @TaskHandler provider at boot; fails the boot when two claim one type, naming both classes. */
@Injectable()
export class HandlerRegistry implements OnModuleInit {
  private definitions?: Map<string, TaskTypeDefinition>;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    this.load();
  }

  get(type: string): TaskHandler | undefined {
    return this.load().get(type)?.handler;
  }

  definition(type: string): TaskTypeDefinition | undefined {
    return this.load().get(type);
  }

  /** Known types, sorted, for error messages and docs. */
  types(): string[] {
    return [...this.load().keys()].sort();
  }

  private load(): Map<string, TaskTypeDefinition> {
    if (this.definitions) return this.definitions;
    const found = new Map<string, TaskTypeDefinition>();
    const owners = new Map<string, string>();
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance) continue;
      const type = this.reflector.get<string | undefined>(TASK_TYPE_METADATA, wrapper.metatype);
      if (!type) continue;
      const owner = wrapper.metatype.name;
      if (found.has(type)) {
        throw new Error(`Task type "${type}" has two handlers: ${owners.get(type)} and ${owner}; remove one of them`);
      }
      const options = this.reflector.get<TaskHandlerOptions | undefined>(TASK_HANDLER_OPTIONS_METADATA, wrapper.metatype) ?? {};
      found.set(type, { type, handler: wrapper.instance as TaskHandler, options });
      owners.set(type, owner);
    }
    this.definitions = found;
    return found;
  }
}
