/**
 * SVG → PNG with the Debian Chromium the browser tests use (/usr/bin/chromium through
 * playwright-core, never a downloaded browser): the SVG inline in a blank page, screenshot
 * at its size. A missing Chromium is an error saying how to install it.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { SVG_SIZE } from "./plot.js";

const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** The browser tests' flags (test/support/browser.ts): headless, no sandbox, GPU, QUIC or background traffic. */
const ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** Renders `svg` (drawn at SVG_SIZE) into the PNG file `path`. */
export async function renderPng(svg: string, path: string): Promise<void> {
  if (!existsSync(CHROMIUM_PATH)) throw new Error(`the soak's PNG needs Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
  const { chromium } = await import("playwright-core");
  const profile = mkdtempSync(join(tmpdir(), "errand-soak-chromium-"));
  try {
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, headless: true, args: ARGS, viewport: SVG_SIZE });
    try {
      const page = await context.newPage();
      await page.setContent(`<!doctype html><html><body style="margin:0">${svg}</body></html>`);
      await page.screenshot({ path, clip: { x: 0, y: 0, ...SVG_SIZE } });
    } finally {
      await context.close();
    }
  } finally {
    rmSync(profile, { recursive: true, force: true });
  }
}
