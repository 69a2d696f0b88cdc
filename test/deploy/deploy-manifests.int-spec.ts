import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PATH_METADATA } from '@nestjs/common/constants';
import { getMetadataStorage } from 'class-validator';
import { parseAllDocuments } from 'yaml';
import { APP_ROLES, EnvironmentVariables } from '../../src/config/env.schema';
import { HealthController } from '../../src/health/health.controller';

/**
 * The deployment files (deploy/k8s/*.yaml, docker-compose.yml) name probe paths, ports and environment
 * variables of the app; nothing else ties them to the code. This spec reads them with a YAML parser and
 * checks each against the app itself (routes from the controller's metadata, variables from the
 * validated config class), and that every grace period outlasts the shutdown bound of README
 * "Graceful shutdown" computed from the values the file itself sets. No Redis, no processes.
 */

const ROOT = join(__dirname, '..', '..');
const K8S_DIR = join(ROOT, 'deploy', 'k8s');

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Every document of a YAML file; a syntax error or warning fails the test, naming the file. */
function readYaml(path: string): Doc[] {
  const docs = parseAllDocuments(readFileSync(path, 'utf8'), { merge: true });
  const list = Array.isArray(docs) ? docs : [docs];
  for (const doc of list) {
    const problems = [...doc.errors, ...doc.warnings].map((e) => e.message);
    expect({ path, problems }).toEqual({ path, problems: [] });
  }
  return list.map((doc) => doc.toJS() as Doc).filter((doc) => doc !== null);
}

/** Every variable the service reads: each decorated property of EnvironmentVariables. */
function appVariables(): Set<string> {
  const metas = getMetadataStorage().getTargetValidationMetadatas(EnvironmentVariables, '', true, false);
  return new Set(metas.map((m) => m.propertyName));
}

/** The service's default of a variable, as a string like the environment gives it. */
function defaultOf(name: keyof EnvironmentVariables): string {
  return String(new EnvironmentVariables()[name]);
}

/** README "Graceful shutdown": a process exits within SHUTDOWN_READY_DELAY_MS + SHUTDOWN_TIMEOUT_MS + ~5 s. */
function shutdownBoundMs(env: Record<string, string>): number {
  const value = (name: 'SHUTDOWN_READY_DELAY_MS' | 'SHUTDOWN_TIMEOUT_MS') => Number(env[name] ?? defaultOf(name));
  return value('SHUTDOWN_READY_DELAY_MS') + value('SHUTDOWN_TIMEOUT_MS') + 5000;
}

/** Full paths of the health controller's GET routes, e.g. /health/live. */
function healthRoutes(): Set<string> {
  const base = Reflect.getMetadata(PATH_METADATA, HealthController) as string;
  const proto = HealthController.prototype as unknown as Record<string, unknown>;
  const routes = Object.getOwnPropertyNames(proto)
    .map((name) => proto[name])
    .filter((fn): fn is object => typeof fn === 'function' && Reflect.hasMetadata(PATH_METADATA, fn))
    .map((fn) => `/${[base, Reflect.getMetadata(PATH_METADATA, fn) as string].filter((p) => p && p !== '/').join('/')}`);
  return new Set(routes);
}

const manifestFiles = readdirSync(K8S_DIR).filter((f) => f.endsWith('.yaml'));
const manifests = manifestFiles.flatMap((file) => readYaml(join(K8S_DIR, file)).map((doc) => ({ file, doc })));
const ofKind = (kind: string) => manifests.filter((m) => m.doc.kind === kind).map((m) => m.doc);
const named = (kind: string, name: string) => ofKind(kind).find((d) => d.metadata?.name === name);
const deployments = ofKind('Deployment');
const byName = deployments.map((d) => [d.metadata.name as string, d] as const);
const known = appVariables();

/** The environment a Deployment's container gets: its ConfigMaps and Secrets (envFrom), then its env. */
function containerEnv(container: Doc): Record<string, string> {
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) {
    const source = from.configMapRef
      ? named('ConfigMap', from.configMapRef.name)
      : named('Secret', from.secretRef?.name);
    expect({ envFrom: from, found: source !== undefined }).toEqual({ envFrom: from, found: true });
    Object.assign(env, source?.data ?? {}, source?.stringData ?? {});
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.secretKeyRef ?? e.valueFrom?.configMapKeyRef;
    if (ref) {
      const kind = e.valueFrom.secretKeyRef ? 'Secret' : 'ConfigMap';
      const source = named(kind, ref.name);
      const value = source?.stringData?.[ref.key] ?? source?.data?.[ref.key];
      expect({ env: e.name, found: value !== undefined }).toEqual({ env: e.name, found: true });
      env[e.name] = String(value);
    } else {
      env[e.name] = String(e.value);
    }
  }
  return env;
}

describe('deploy/k8s manifests', () => {
  it('parse, and kustomization.yaml lists every other manifest', () => {
    expect(deployments.length).toBeGreaterThan(0);
    for (const { file, doc } of manifests) {
      expect({ file, apiVersion: typeof doc.apiVersion, kind: typeof doc.kind })
        .toEqual({ file, apiVersion: 'string', kind: 'string' });
    }
    const kustomization = ofKind('Kustomization')[0];
    expect([...kustomization.resources].sort()).toEqual(manifestFiles.filter((f) => f !== 'kustomization.yaml').sort());
  });

  it('have one Deployment per role, api and worker', () => {
    const roles = deployments.map((d) => containerEnv(d.spec.template.spec.containers[0]).APP_ROLE);
    expect(roles.sort()).toEqual(['api', 'worker']);
    for (const role of roles) expect(APP_ROLES).toContain(role);
  });

  it('name only environment variables the app reads (ConfigMap, Secret and container env)', () => {
    const names = [
      ...ofKind('ConfigMap').flatMap((d) => Object.keys(d.data ?? {})),
      ...ofKind('Secret').flatMap((d) => Object.keys({ ...d.data, ...d.stringData })),
      ...deployments.flatMap((d) => d.spec.template.spec.containers.flatMap((c: Doc) => Object.keys(containerEnv(c)))),
    ];
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !known.has(n))).toEqual([]);
    // The Secret carries the Redis password; REDIS_URL must be one the config accepts.
    expect(known).toContain('REDIS_URL');
    for (const d of ofKind('Secret')) expect(d.stringData.REDIS_URL).toMatch(/^rediss?:\/\/[^:@/]*:[^@]+@/);
  });

  it.each(byName)('%s: probes hit health routes on SERVER_PORT', (_name, d) => {
    const routes = healthRoutes();
    expect([...routes]).toEqual(expect.arrayContaining(['/health/live', '/health/ready']));
    for (const c of d.spec.template.spec.containers as Doc[]) {
      const port = Number(containerEnv(c).SERVER_PORT ?? defaultOf('SERVER_PORT'));
      expect(c.livenessProbe.httpGet.path).toBe('/health/live');
      expect(c.readinessProbe.httpGet.path).toBe('/health/ready');
      for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe].filter(Boolean)) {
        expect(routes).toContain(probe.httpGet.path);
        const target = probe.httpGet.port;
        const resolved = typeof target === 'number' ? target : c.ports.find((p: Doc) => p.name === target)?.containerPort;
        expect({ probe: probe.httpGet.path, port: resolved }).toEqual({ probe: probe.httpGet.path, port });
      }
    }
  });

  it.each(byName)('%s: grace period outlasts the shutdown bound', (_name, d) => {
    const spec = d.spec.template.spec;
    for (const c of spec.containers as Doc[]) {
      expect(spec.terminationGracePeriodSeconds * 1000).toBeGreaterThan(shutdownBoundMs(containerEnv(c)));
    }
  });

  it.each(byName)('%s: non-root, read-only root filesystem, resources', (_name, d) => {
    const spec = d.spec.template.spec;
    expect(spec.securityContext.runAsNonRoot).toBe(true);
    expect(spec.securityContext.runAsUser).toBeGreaterThan(0);
    for (const c of spec.containers as Doc[]) {
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(c.resources.requests).toMatchObject({ cpu: expect.any(String), memory: expect.any(String) });
      expect(c.resources.limits.memory).toEqual(expect.any(String));
    }
  });

  it('Service, PodDisruptionBudgets and HPA select pods and ports that exist', () => {
    const podLabels = deployments.map((d) => d.spec.template.metadata.labels as Record<string, string>);
    const selects = (selector: Record<string, string>) =>
      podLabels.filter((labels) => Object.entries(selector).every(([k, v]) => labels[k] === v)).length;
    for (const svc of ofKind('Service')) {
      expect(selects(svc.spec.selector)).toBe(1);
      const target = deployments.find((d) =>
        Object.entries(svc.spec.selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v),
      );
      const portNames = target!.spec.template.spec.containers.flatMap((c: Doc) => c.ports.map((p: Doc) => p.name));
      for (const p of svc.spec.ports) expect(portNames).toContain(p.targetPort);
    }
    const pdbs = ofKind('PodDisruptionBudget');
    expect(pdbs.map((p) => selects(p.spec.selector.matchLabels))).toEqual(pdbs.map(() => 1));
    expect(pdbs.length).toBe(deployments.length);
    const metricsSource = readdirSync(join(ROOT, 'src/metrics'))
      .map((f) => readFileSync(join(ROOT, 'src/metrics', f), 'utf8'))
      .join('\n');
    for (const hpa of ofKind('HorizontalPodAutoscaler')) {
      expect(named('Deployment', hpa.spec.scaleTargetRef.name)).toBeDefined();
      // An External metric is one GET /metrics exports (METRIC_PREFIX is `taskqueue_`).
      for (const m of (hpa.spec.metrics as Doc[]).filter((x) => x.type === 'External')) {
        const name = String(m.external.metric.name);
        expect(name).toMatch(/^taskqueue_/);
        expect(metricsSource).toContain(`\${METRIC_PREFIX}${name.slice('taskqueue_'.length)}\``);
      }
    }
  });
});

describe('docker-compose.yml', () => {
  /** Compose interpolation with an empty environment: ${VAR:-default} gives the default. */
  const interpolate = (value: unknown): string =>
    String(value).replace(/\$\{([A-Z0-9_]+)(?::?-([^}]*))?\}/g, (_m, _name: string, fallback?: string) => fallback ?? '');
  const compose = readYaml(join(ROOT, 'docker-compose.yml'))[0];
  const apps = Object.entries(compose.services as Record<string, Doc>).filter(([, s]) => s.environment?.APP_ROLE);
  const envOf = (s: Doc) => Object.fromEntries(Object.entries(s.environment as Doc).map(([k, v]) => [k, interpolate(v)]));
  /** Compose durations: 45s, 1m30s, 500ms. */
  const durationMs = (text: string) =>
    [...text.matchAll(/(\d+)(ms|s|m|h)/g)].reduce((sum, [, n, unit]) => sum + Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit]!, 0);

  it('runs an api and a worker service, each with variables the app reads', () => {
    expect(apps.map(([, s]) => s.environment.APP_ROLE).sort()).toEqual(['api', 'worker']);
    for (const [, s] of apps) expect(Object.keys(s.environment).filter((n) => !known.has(n))).toEqual([]);
  });

  it('gives every app service a stop_grace_period above the shutdown bound', () => {
    for (const [name, s] of apps) {
      const graceMs = durationMs(interpolate(s.stop_grace_period));
      expect({ name, above: graceMs > shutdownBoundMs(envOf(s)) }).toEqual({ name, above: true });
    }
  });

  it('publishes the API on the port SERVER_PORT sets, inside and out', () => {
    const [, api] = apps.find(([, s]) => s.environment.APP_ROLE === 'api')!;
    expect(api.ports).toEqual(['${SERVER_PORT:-8080}:${SERVER_PORT:-8080}']);
    expect(api.environment.SERVER_PORT).toBe('${SERVER_PORT:-8080}');
    expect(interpolate(api.environment.SERVER_PORT)).toBe(defaultOf('SERVER_PORT'));
  });
});
