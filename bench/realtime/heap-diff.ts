/**
 * What grew between two heap snapshots of the server (`--heap-snapshot` writes them at
 * baseline, with the streams open, and after they closed): objects grouped by
 * constructor (or type, for strings, arrays, code), count and self size, largest growth
 * first, optionally divided by the number of streams.
 *
 *   node bench/dist/realtime/heap-diff.js <before.heapsnapshot> <after.heapsnapshot> [--per N] [--top 30]
 */
import { readFile } from "node:fs/promises";

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

/** Count and self size per group of one snapshot. */
export async function groups(file: string): Promise<Map<string, { count: number; bytes: number }>> {
  const data = JSON.parse(await readFile(file, "utf8")) as Snapshot;
  const fields = data.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const types = data.snapshot.meta.node_types[0];
  const out = new Map<string, { count: number; bytes: number }>();
  for (let i = 0; i < data.nodes.length; i += width) {
    const type = types[data.nodes[i + typeAt]!]!;
    // Objects and closures by name; strings, arrays, code and the rest by type.
    const key = type === "object" || type === "closure" ? `${type === "closure" ? "ƒ " : ""}${data.strings[data.nodes[i + nameAt]!]}` : `(${type})`;
    const entry = out.get(key) ?? { count: 0, bytes: 0 };
    entry.count++;
    entry.bytes += data.nodes[i + sizeAt]!;
    out.set(key, entry);
  }
  return out;
}

async function main(argv: string[]): Promise<void> {
  const [before, after] = argv;
  if (!before || !after) throw new Error("usage: node bench/dist/realtime/heap-diff.js <before.heapsnapshot> <after.heapsnapshot> [--per N] [--top 30]");
  const option = (name: string, fallback: number) => {
    const at = argv.indexOf(name);
    return at < 0 ? fallback : Number(argv[at + 1]);
  };
  const per = option("--per", 1);
  const top = option("--top", 30);
  const [a, b] = await Promise.all([groups(before), groups(after)]);
  const rows = [...new Set([...a.keys(), ...b.keys()])].map((key) => {
    const x = a.get(key) ?? { count: 0, bytes: 0 };
    const y = b.get(key) ?? { count: 0, bytes: 0 };
    return { key, count: y.count - x.count, bytes: y.bytes - x.bytes };
  });
  rows.sort((p, q) => Math.abs(q.bytes) - Math.abs(p.bytes));
  const total = rows.reduce((sum, r) => sum + r.bytes, 0);
  const unit = per === 1 ? "" : ` per ${per}`;
  console.log(`self size grown: ${(total / per).toFixed(0)} bytes${unit}\n`);
  console.log(`| objects | count${unit} | bytes${unit} |\n| --- | ---: | ---: |`);
  for (const row of rows.slice(0, top)) console.log(`| ${row.key.slice(0, 60)} | ${(row.count / per).toFixed(2)} | ${(row.bytes / per).toFixed(0)} |`);
}

if (process.argv[1]?.endsWith("heap-diff.js")) await main(process.argv.slice(2));
