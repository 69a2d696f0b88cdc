import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The variables EnvironmentVariables declares (each property line of the class in env.schema.ts). */
function declaredVariables(): string[] {
  const source = readFileSync(join(__dirname, 'env.schema.ts'), 'utf8');
  const body = source.slice(source.indexOf('export class EnvironmentVariables'));
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]+)[?!]?(?: = |: |;)/gm)].map((m) => m[1]);
}

/** The defaults EnvironmentVariables declares (`NAME = value;`), as the README writes them. */
function declaredDefaults(): Map<string, string> {
  const source = readFileSync(join(__dirname, 'env.schema.ts'), 'utf8');
  const body = source.slice(source.indexOf('export class EnvironmentVariables'));
  return new Map(
    [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]+) = (.+);$/gm)].map((m) => {
      const value = m[2].startsWith("'") ? m[2].slice(1, -1) : m[2].replace(/_/g, '');
      return [m[1], value];
    }),
  );
}

/** The second column (the default) of the README configuration table, by variable. */
function documentedDefaults(): Map<string, string> {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'));
  return new Map([...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \| ([^|]*) \|/gm)].map((m) => [m[1], m[2].trim().replace(/^`|`$/g, '')]));
}

/** The first column of the README configuration table. */
function documentedVariables(): Set<string> {
  const readme = readFileSync(join(__dirname, '..', '..', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Configuration'));
  return new Set([...section.matchAll(/^\| `([A-Z][A-Z0-9_]+)` \|/gm)].map((m) => m[1]));
}

describe('README configuration table', () => {
  it('documents every environment variable the service reads', () => {
    const declared = declaredVariables();
    expect(declared).toEqual(expect.arrayContaining(['SERVER_PORT', 'REDIS_URL', 'API_KEYS']));
    const documented = documentedVariables();
    expect(declared.filter((name) => !documented.has(name))).toEqual([]);
  });

  it('documents each default as the schema declares it', () => {
    const declared = declaredDefaults();
    // The parser found the defaults (a change of the schema's layout must not empty this check).
    expect(declared.size).toBeGreaterThan(20);
    expect(declared.get('WORKER_COUNT')).toMatch(/^\d+$/);
    const documented = documentedDefaults();
    const wrong = [...declared].filter(([name, value]) => documented.get(name) !== value).map(([name, value]) => `${name}: schema ${value}, README ${documented.get(name)}`);
    expect(wrong).toEqual([]);
  });

  it('documents no variable the service does not read', () => {
    const declared = new Set(declaredVariables());
    expect([...documentedVariables()].filter((name) => !declared.has(name))).toEqual([]);
  });
});
