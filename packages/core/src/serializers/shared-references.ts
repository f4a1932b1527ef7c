/**
 * Shared references on the way back. superjson writes an object that appears twice in
 * full both times and lists, in `meta.referentialEqualities`, the paths that were one
 * object. Its own reader re-links them by deleting and re-adding a `Set` item or a `Map`
 * key, which moves it to the end: `new Set([shared, "x"])` came back as `{"x", shared}`.
 * This reader re-links them in place, keeping every `Set` and `Map` in its order.
 *
 * @module
 */

/** superjson's `meta.referentialEqualities`: representative path → paths of the same object. */
export type ReferentialEqualities = Record<string, string[]> | [string[]] | [string[], Record<string, string[]>];

/**
 * Makes every listed path point at the object at its representative path.
 * @returns the root (replaced only if the root itself was listed, which a tree without
 * cycles never does).
 * @throws Error when a path does not lead anywhere.
 */
export function applySharedReferences(root: unknown, equalities: ReferentialEqualities): unknown {
  let tree = root;
  const link = (to: unknown, paths: readonly string[]) => {
    for (const path of paths) {
      const keys = parsePath(path);
      if (keys.length === 0) tree = to;
      else tree = setAt(tree, keys, to);
    }
  };
  if (Array.isArray(equalities)) {
    link(tree, equalities[0]);
    for (const [from, paths] of Object.entries(equalities[1] ?? {})) link(getAt(tree, parsePath(from)), paths);
  } else {
    for (const [from, paths] of Object.entries(equalities)) link(getAt(tree, parsePath(from)), paths);
  }
  return tree;
}

// superjson joins keys with "." and escapes "." and "\" inside a key with "\".
function parsePath(path: string): string[] {
  if (path === "") return [];
  const keys: string[] = [];
  let key = "";
  for (let i = 0; i < path.length; i++) {
    const char = path[i]!;
    if (char === "\\") {
      const next = path[++i];
      if (next !== "\\" && next !== ".") throw new Error(`invalid path "${path}"`);
      key += next;
    } else if (char === ".") {
      keys.push(key);
      key = "";
    } else {
      key += char;
    }
  }
  keys.push(key);
  return keys;
}

// One step down: a Set step is an item's position, a Map step two keys (the row, then 0
// for its key or 1 for its value), any other step a property.
function width(node: unknown): number {
  return node instanceof Map ? 2 : 1;
}

function step(node: unknown, keys: readonly string[], i: number): unknown {
  if (node instanceof Set) return nth(node, keys[i]!);
  if (node instanceof Map) return nth(nth(node, keys[i]!) as unknown[], keys[i + 1]!);
  if (typeof node === "object" && node !== null) return (node as Record<string, unknown>)[keys[i]!];
  throw new Error(`no value at ${keys.slice(0, i + 1).join(".")}`);
}

function getAt(root: unknown, keys: readonly string[]): unknown {
  let node = root;
  for (let i = 0; i < keys.length; ) {
    const size = width(node);
    node = step(node, keys, i);
    i += size;
  }
  return node;
}

function nth(items: Iterable<unknown>, key: string): unknown {
  const index = Number(key);
  let position = 0;
  for (const item of items) if (position++ === index) return item;
  throw new Error(`no item ${key}`);
}

function setAt(root: unknown, keys: readonly string[], value: unknown): unknown {
  let node = root;
  let i = 0;
  while (i + width(node) < keys.length) {
    const size = width(node);
    node = step(node, keys, i);
    i += size;
  }
  const last = Number(keys[keys.length - 1]);
  if (node instanceof Map) {
    const row = Number(keys[i]);
    const entries = [...node].map(([k, v], index): [unknown, unknown] => (index !== row ? [k, v] : last === 0 ? [value, v] : [k, value]));
    node.clear();
    for (const [k, v] of entries) node.set(k, v);
  } else if (node instanceof Set) {
    const items = [...node].map((item, index) => (index === last ? value : item));
    node.clear();
    for (const item of items) node.add(item);
  } else if (typeof node === "object" && node !== null) {
    (node as Record<string, unknown>)[keys[i]!] = value;
  } else {
    throw new Error(`no value at ${keys.join(".")}`);
  }
  return root;
}
