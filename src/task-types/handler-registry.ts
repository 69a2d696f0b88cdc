import { Injectable, OnModuleInit } from '@nestjs/common';
import { DiscoveryService, Reflector } from '@nestjs/core';
import { TASK_TYPE_METADATA, TaskHandler } from './task-handler';

/** Finds every @TaskType provider at boot; fails the boot when two claim one type. */
@Injectable()
export class HandlerRegistry implements OnModuleInit {
  private handlers?: Map<string, TaskHandler>;

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    this.load();
  }

  get(type: string): TaskHandler | undefined {
    return this.load().get(type);
  }

  /** Known types, sorted, for error messages and docs. */
  types(): string[] {
    return [...this.load().keys()].sort();
  }

  private load(): Map<string, TaskHandler> {
    if (this.handlers) return this.handlers;
    const found = new Map<string, TaskHandler>();
    const owners = new Map<string, string>();
    for (const wrapper of this.discovery.getProviders()) {
      if (!wrapper.metatype || !wrapper.instance) continue;
      const type = this.reflector.get<string | undefined>(TASK_TYPE_METADATA, wrapper.metatype);
      if (!type) continue;
      const owner = wrapper.metatype.name;
      if (found.has(type)) {
        throw new Error(`Task type "${type}" has two handlers: ${owners.get(type)} and ${owner}; remove one of them`);
      }
      found.set(type, wrapper.instance as TaskHandler);
      owners.set(type, owner);
    }
    this.handlers = found;
    return found;
  }
}
