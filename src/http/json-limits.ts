/**
 * Limits on the shape of a parsed JSON body, on top of BODY_LIMIT (its size in bytes). No valid body
 * comes close to them: a batch is an array of at most 1000 flat objects (depth 2, about 4000 values).
 * They exist because validation walks the body recursively and copies it (class-transformer), which
 * costs far more than parsing did:
 * - a body nested thousands of levels deep (a few kB of `[[[[...`) overflows the stack: a 500;
 * - an object with tens of thousands of keys takes quadratic time to copy: 1 MB of `{"k1":1,...}`
 *   blocked the event loop for 5 s.
 */
export const MAX_JSON_DEPTH = 32;
export const MAX_JSON_VALUES = 10_000;

/** Why `value` breaks the limits, or undefined. Iterative: it never recurses itself, and stops early. */
export function jsonShapeProblem(value: unknown, maxDepth = MAX_JSON_DEPTH, maxValues = MAX_JSON_VALUES): string | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const stack: Array<[object, number]> = [[value, 1]];
  let values = 1;
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [object, number];
    if (depth > maxDepth) return `body is nested too deeply (more than ${maxDepth} levels)`;
    for (const child of Object.values(node)) {
      values += 1;
      if (values > maxValues) return `body holds too many values (more than ${maxValues})`;
      if (child !== null && typeof child === 'object') stack.push([child, depth + 1]);
    }
  }
  return undefined;
}
