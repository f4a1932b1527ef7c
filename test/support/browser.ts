// Headless Chromium for the browser tests: Debian's /usr/bin/chromium driven by
// playwright-core (never a downloaded browser), with a fresh profile in a temporary
// directory that close() removes. When Chromium is missing the tests fail with the
// command that installs it; they never skip (test/browser-support.test.ts).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import { type BrowserContext, type Page, chromium } from "playwright-core";

/** Where Debian's `chromium` package puts the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

/** What to do when Chromium is missing at `path`. */
export const chromiumHowTo = (path: string) =>
  `Chromium is needed at ${path} for the browser tests: install Debian's package ` +
  "(apt-get install -y chromium; .ci/run does it when it is missing)";

// Quiet, self-contained: no GPU, no QUIC (the fixtures speak HTTP/1.1 on loopback), no
// first-run UI, and none of the background traffic (updates, sync) a profile would start.
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A running Chromium with one browser context. */
export interface TestBrowser {
  /** The browser context (one profile); its pages share cookies. */
  context: BrowserContext;
  /** Opens a page whose uncaught exceptions land in {@link TestBrowser.pageErrors}. */
  newPage(): Promise<Page>;
  /** Uncaught exceptions of every page opened here, as `message` strings. */
  pageErrors: string[];
  /** The profile directory (`--user-data-dir`), removed by close(). */
  profileDir: string;
  /** Closes the browser and removes its profile directory. */
  close(): Promise<void>;
}

/**
 * Launches headless Chromium (`executablePath` defaults to {@link CHROMIUM_PATH}); throws
 * {@link chromiumHowTo} when it is not installed.
 */
export async function launchBrowser(options: { executablePath?: string } = {}): Promise<TestBrowser> {
  const { executablePath = CHROMIUM_PATH } = options;
  if (!existsSync(executablePath)) throw new Error(chromiumHowTo(executablePath));
  const profile = mkdtempSync(join(tmpdir(), "errand-chromium-"));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, { executablePath, headless: true, args: ARGS });
  } catch (error) {
    rmSync(profile, { recursive: true, force: true });
    throw error;
  }
  const pageErrors: string[] = [];
  return {
    context,
    pageErrors,
    profileDir: profile,
    async newPage() {
      const page = await context.newPage();
      page.on("pageerror", (error) => pageErrors.push(error.message));
      return page;
    },
    async close() {
      try {
        await context.close();
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    },
  };
}
