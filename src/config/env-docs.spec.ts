import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The variables EnvironmentVariables declares (each property line of the class in env.schema.ts). */
function declaredVariables(): string[] {
  const source = readFileSync(join(__dirname, 'env.schema.ts'), 'utf8');
  const body = source.slice(source.indexOf('export class EnvironmentVariables'));
  return [...body.matchAll(/^ {2}([A-Z][A-Z0-9_]+)[?!]?(?: = |: |;)/gm)].map((m) => m[1]);
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

  it('documents no variable the service does not read', () => {
    const declared = new Set(declaredVariables());
    expect([...documentedVariables()].filter((name) => !declared.has(name))).toEqual([]);
  });
});
