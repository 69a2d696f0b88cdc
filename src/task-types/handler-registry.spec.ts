import { Global, Injectable, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test, TestingModule } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { RANDOM } from '../common/random';
import { EchoHandler } from './echo.handler';
import { HandlerRegistry } from './handler-registry';
import { TaskHandler, TaskType } from './task-handler';
import { TaskTypesModule } from './task-types.module';

@Injectable()
@TaskType('zeta')
class ZetaHandler implements TaskHandler {
  async handle(payload: string): Promise<string> {
    return `zeta ${payload}`;
  }
}

@Injectable()
@TaskType('alpha')
class AlphaHandler implements TaskHandler {
  async handle(payload: string): Promise<string> {
    return `alpha ${payload}`;
  }
}

@Injectable()
@TaskType('mid')
class MidHandler implements TaskHandler {
  async handle(): Promise<string> {
    return 'mid';
  }
}

@Injectable()
@TaskType('alpha')
class SecondAlphaHandler implements TaskHandler {
  async handle(): Promise<string> {
    return 'second alpha';
  }
}

/** A provider that is not a task handler: the registry must ignore it. */
@Injectable()
class UnrelatedService {
  hello(): string {
    return 'hi';
  }
}

async function build(providers: unknown[]): Promise<TestingModule> {
  const moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule],
    providers: [HandlerRegistry, ...(providers as [])],
  }).compile();
  return moduleRef;
}

describe('HandlerRegistry', () => {
  let moduleRef: TestingModule | undefined;

  afterEach(async () => {
    await moduleRef?.close();
    moduleRef = undefined;
  });

  it('finds every @TaskType provider and returns its instance', async () => {
    moduleRef = await build([ZetaHandler, AlphaHandler, MidHandler, UnrelatedService]);
    await moduleRef.init();
    const registry = moduleRef.get(HandlerRegistry);

    expect(registry.get('alpha')).toBe(moduleRef.get(AlphaHandler));
    expect(registry.get('zeta')).toBe(moduleRef.get(ZetaHandler));
    expect(registry.get('mid')).toBe(moduleRef.get(MidHandler));
    await expect(registry.get('alpha')!.handle('x', { taskId: 't', attempt: 1, signal: new AbortController().signal })).resolves.toBe(
      'alpha x',
    );
  });

  it('lists the known types sorted', async () => {
    moduleRef = await build([ZetaHandler, MidHandler, AlphaHandler]);
    await moduleRef.init();
    expect(moduleRef.get(HandlerRegistry).types()).toEqual(['alpha', 'mid', 'zeta']);
  });

  it('ignores providers without @TaskType', async () => {
    moduleRef = await build([UnrelatedService, EchoHandler]);
    await moduleRef.init();
    expect(moduleRef.get(HandlerRegistry).types()).toEqual(['echo']);
  });

  it('returns undefined for an unknown type', async () => {
    moduleRef = await build([AlphaHandler]);
    await moduleRef.init();
    const registry = moduleRef.get(HandlerRegistry);
    expect(registry.get('unknown')).toBeUndefined();
    expect(registry.get('')).toBeUndefined();
    expect(registry.get('Alpha')).toBeUndefined();
  });

  it('has no types when no handler is registered', async () => {
    moduleRef = await build([UnrelatedService]);
    await moduleRef.init();
    expect(moduleRef.get(HandlerRegistry).types()).toEqual([]);
  });

  it('fails module init when two providers claim one type, naming both classes', async () => {
    moduleRef = await build([AlphaHandler, ZetaHandler, SecondAlphaHandler]);
    const init = moduleRef.init();
    await expect(init).rejects.toThrow(/"alpha"/);
    await expect(init).rejects.toThrow(/AlphaHandler/);
    await expect(init).rejects.toThrow(/SecondAlphaHandler/);
    await expect(init).rejects.toThrow('Task type "alpha" has two handlers: AlphaHandler and SecondAlphaHandler');
    // close() would re-await the failed initialisation and throw again; nothing was started anyway.
    moduleRef = undefined;
  });

  it('finds handlers declared in an imported module', async () => {
    @Module({ providers: [ZetaHandler, AlphaHandler] })
    class FeatureModule {}

    moduleRef = await Test.createTestingModule({
      imports: [DiscoveryModule, FeatureModule],
      providers: [HandlerRegistry],
    }).compile();
    await moduleRef.init();
    expect(moduleRef.get(HandlerRegistry).types()).toEqual(['alpha', 'zeta']);
  });

  it('registers every built-in handler of TaskTypesModule', async () => {
    @Global()
    @Module({
      providers: [
        { provide: APP_CONFIG, useValue: { handlers: { slowTaskMs: 10, flakyFailureRate: 0 } } as unknown as AppConfig },
        { provide: RANDOM, useValue: { next: () => 0.5 } },
      ],
      exports: [APP_CONFIG, RANDOM],
    })
    class StubsModule {}

    moduleRef = await Test.createTestingModule({ imports: [StubsModule, TaskTypesModule] }).compile();
    await moduleRef.init();
    const registry = moduleRef.get(HandlerRegistry);
    expect(registry.types()).toEqual(['echo', 'flaky', 'reverse', 'slow', 'sum']);
    expect(registry.get('echo')).toBeInstanceOf(EchoHandler);
  });
});
