/**
 * The weight of the dashboard's overview as a browser loads it: the HTML (seeded: a
 * queue per kind of job, their charts and actions), the stylesheet and the script, raw and
 * gzipped (level 6, what servers use by default). `npm run dashboard:weight` prints it;
 * test/dashboard-weight.test.ts holds it under its budget.
 */
import { gzipSync } from "node:zlib";

import type { Dashboard } from "@errand/dashboard";

/** Sizes of one file, in bytes. */
export interface Weight {
  raw: number;
  gzipped: number;
}

/** The overview's HTML, stylesheet and script, and their total. */
export interface PageWeight {
  html: Weight;
  css: Weight;
  js: Weight;
  total: Weight;
}

const weigh = (bytes: Uint8Array): Weight => ({ raw: bytes.byteLength, gzipped: gzipSync(bytes).byteLength });

/** Loads the overview from `ui` as a browser would (page, then its two assets) and weighs it. */
export async function overviewWeight(ui: Dashboard): Promise<PageWeight> {
  const load = async (path: string) => new Uint8Array(await (await ui(new Request(`http://weight.test${path}`))).arrayBuffer());
  const page = await load(`${ui.basePath}/`);
  const text = new TextDecoder().decode(page);
  const css = await load(/<link rel="stylesheet" href="([^"]+)">/.exec(text)![1]!);
  const js = await load(/<script type="module" src="([^"]+)">/.exec(text)![1]!);
  const html = weigh(page);
  const style = weigh(css);
  const script = weigh(js);
  return { html, css: style, js: script, total: { raw: html.raw + style.raw + script.raw, gzipped: html.gzipped + style.gzipped + script.gzipped } };
}

/** The weight as a table for a terminal. */
export function formatWeight(weight: PageWeight): string {
  const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;
  return (["html", "css", "js", "total"] as const).map((part) => `${part.padEnd(6)} ${kb(weight[part].raw).padStart(9)} raw ${kb(weight[part].gzipped).padStart(9)} gzipped`).join("\n");
}
