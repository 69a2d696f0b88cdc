import { Global, Injectable, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test, TestingModule } from '@nestjs/testing';
import { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/app-config.module';
import { CLOCK } from '../common/clock';
import { RANDOM } from '../common/random';
import { EchoHandler } from './echo.handler';
import { HandlerRegistry } from './handler-registry';
import { TaskHandler } from './task-handler';
import { TaskHandlersModule } from './task-handlers.module';
import { TaskTypesModule } from './task-types.module';

@Injectable()
@TaskHandler('zeta')
class ZetaHandler implements TaskHandler {
  async handle(payload: string): Promise<string> {
    return `zeta ${payload}`;
  }
}

@Injectable()
@TaskHandler('alpha')
class AlphaHandler implements TaskHandler {
  async handle(payload: string): Promise<string> {
    return `alpha ${payload}`;
  }
}

@Injectable()
@TaskHandler('mid')
class MidHandler implements TaskHandler {
  async handle(): Promise<string> {
    return 'mid';
  }
}

@Injectable()
@TaskHandler('alpha')
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

  it('finds every @TaskHandler provider and returns its instance', async () => {
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

  it('ignores providers without @TaskHandler', async () => {
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

  describe('TaskTypesModule.forRoot', () => {
    const stubs = (demoTaskTypes: boolean) => {
      const config = {
        handlers: { slowTaskMs: 10, flakyFailureRate: 0, demoTaskTypes },
        httpTasks: { allowedHosts: [], timeoutMs: 1000, maxResponseBytes: 1000 },
      } as unknown as AppConfig;
      @Global()
      @Module({
        providers: [
          { provide: APP_CONFIG, useValue: config },
          { provide: RANDOM, useValue: { next: () => 0.5 } },
          { provide: CLOCK, useValue: { now: () => 0 } },
        ],
        exports: [APP_CONFIG, RANDOM, CLOCK],
      })
      class StubsModule {}
      return { StubsModule, config };
    };

    it('registers every built-in handler', async () => {
      const { StubsModule, config } = stubs(true);
      moduleRef = await Test.createTestingModule({ imports: [StubsModule, TaskTypesModule.forRoot(config)] }).compile();
      await moduleRef.init();
      const registry = moduleRef.get(HandlerRegistry);
      expect(registry.types()).toEqual(['echo', 'flaky', 'http', 'reverse', 'slow', 'sum']);
      expect(registry.get('echo')).toBeInstanceOf(EchoHandler);
      expect(registry.definition('echo')?.options).toEqual({ payload: 'string' });
    });

    it('leaves slow and flaky out with DEMO_TASK_TYPES=false', async () => {
      const { StubsModule, config } = stubs(false);
      moduleRef = await Test.createTestingModule({ imports: [StubsModule, TaskTypesModule.forRoot(config)] }).compile();
      await moduleRef.init();
      expect(moduleRef.get(HandlerRegistry).types()).toEqual(['echo', 'http', 'reverse', 'sum']);
    });

    it('finds the types of an application module registered with TaskHandlersModule.forFeature', async () => {
      const { StubsModule, config } = stubs(false);
      @Module({ imports: [TaskHandlersModule.forFeature([ZetaHandler, MidHandler])] })
      class ZetaFeatureModule {}
      moduleRef = await Test.createTestingModule({ imports: [StubsModule, TaskTypesModule.forRoot(config), ZetaFeatureModule] }).compile();
      await moduleRef.init();
      expect(moduleRef.get(HandlerRegistry).types()).toEqual(['echo', 'http', 'mid', 'reverse', 'sum', 'zeta']);
    });

    it('fails the boot when a feature claims a built-in type, naming both classes', async () => {
      @Injectable()
      @TaskHandler('echo')
      class MyEchoHandler implements TaskHandler {
        async handle(): Promise<string> {
          return 'mine';
        }
      }
      const { StubsModule, config } = stubs(true);
      moduleRef = await Test.createTestingModule({
        imports: [StubsModule, TaskTypesModule.forRoot(config), TaskHandlersModule.forFeature([MyEchoHandler])],
      }).compile();
      await expect(moduleRef.init()).rejects.toThrow('Task type "echo" has two handlers: EchoHandler and MyEchoHandler');
      moduleRef = undefined;
    });
  });

  describe('TaskHandlersModule.forFeature', () => {
    it('gives each handler the dependencies its imports export', async () => {
      @Injectable()
      class Greeter {
        greet(name: string): string {
          return `hello ${name}`;
        }
      }
      @Module({ providers: [Greeter], exports: [Greeter] })
      class GreeterModule {}
      @Injectable()
      @TaskHandler('greet')
      class GreetHandler implements TaskHandler<{ name: string }, string> {
        constructor(private readonly greeter: Greeter) {}
        async handle(payload: { name: string }): Promise<string> {
          return this.greeter.greet(payload.name);
        }
      }
      moduleRef = await Test.createTestingModule({
        imports: [DiscoveryModule, TaskHandlersModule.forFeature([GreetHandler], { imports: [GreeterModule] })],
        providers: [HandlerRegistry],
      }).compile();
      await moduleRef.init();
      const handler = moduleRef.get(HandlerRegistry).get('greet');
      await expect(handler?.handle({ name: 'ada' }, { taskId: 't', attempt: 1, signal: new AbortController().signal })).resolves.toBe('hello ada');
    });

    it('two features may register types side by side; a type in both fails the boot naming both classes', async () => {
      moduleRef = await Test.createTestingModule({
        imports: [DiscoveryModule, TaskHandlersModule.forFeature([AlphaHandler]), TaskHandlersModule.forFeature([ZetaHandler, SecondAlphaHandler])],
        providers: [HandlerRegistry],
      }).compile();
      await expect(moduleRef.init()).rejects.toThrow('Task type "alpha" has two handlers: AlphaHandler and SecondAlphaHandler');
      moduleRef = undefined;
    });

    it('refuses a class without @TaskHandler, naming it', () => {
      expect(() => TaskHandlersModule.forFeature([AlphaHandler, UnrelatedService])).toThrow(
        "TaskHandlersModule.forFeature: UnrelatedService has no @TaskHandler('type') decorator",
      );
    });
  });

  describe('@TaskHandler options', () => {
    it('are kept with the type', async () => {
      class Dto {}
      @Injectable()
      @TaskHandler('tuned', { timeoutMs: 500, maxRetry: 7, backoff: { type: 'fixed', delayMs: 20 }, concurrency: 2, payloadDto: Dto })
      class TunedHandler implements TaskHandler {
        async handle(): Promise<null> {
          return null;
        }
      }
      moduleRef = await build([TunedHandler]);
      await moduleRef.init();
      expect(moduleRef.get(HandlerRegistry).definition('tuned')).toEqual({
        type: 'tuned',
        handler: moduleRef.get(TunedHandler),
        options: { timeoutMs: 500, maxRetry: 7, backoff: { type: 'fixed', delayMs: 20 }, concurrency: 2, payloadDto: Dto },
      });
    });

    it.each([
      ['', {}, 'the type must be 1 to 64 characters'],
      ['x'.repeat(65), {}, 'the type must be 1 to 64 characters'],
      ['t', { timeoutMs: 0 }, 'timeoutMs must be an integer between 1 and 86400000'],
      ['t', { maxRetry: 26 }, 'maxRetry must be an integer between 0 and 25'],
      ['t', { concurrency: 0 }, 'concurrency must be an integer between 1 and 100000'],
      ['t', { concurrency: 1.5 }, 'concurrency must be an integer between 1 and 100000'],
      ['t', { backoff: { type: 'linear' } }, 'backoff.type must be one of: exponential, fixed'],
      ['t', { backoff: { delayMs: 100, maxDelayMs: 50 } }, 'backoff.maxDelayMs must not be smaller than backoff.delayMs'],
      ['t', { payload: 'text' }, "payload must be 'json' or 'string'"],
      ['t', { payload: 'string', payloadDto: class {} }, "payloadDto needs payload 'json'"],
    ])('@TaskHandler(%p, %p) fails when declared: %s', (type, options, problem) => {
      expect(() => TaskHandler(type, options as never)).toThrow(problem);
    });
  });
});
