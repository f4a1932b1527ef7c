// The browser test support: a missing Chromium fails with the command that installs it (never
// a skip), and a launched one runs pages and leaves no profile directory behind.
import { existsSync } from "node:fs";
import { tmpdir } from "node:os";

import { describe, expect, it } from "vitest";

import { waitFor } from "@errand/core/testing";

import { launchBrowser } from "./support/browser.js";

describe("launchBrowser", () => {
  it("without Chromium, fails saying how to install it", async () => {
    await expect(launchBrowser({ executablePath: "/nonexistent/chromium" })).rejects.toThrow(
      "Chromium is needed at /nonexistent/chromium for the browser tests: install Debian's package (apt-get install -y chromium; .ci/run does it when it is missing)",
    );
  });

  it("runs a page in a fresh profile that close() removes", async () => {
    const browser = await launchBrowser();
    expect(browser.profileDir.startsWith(`${tmpdir()}/errand-chromium-`)).toBe(true);
    expect(existsSync(`${browser.profileDir}/Default`)).toBe(true);
    const page = await browser.newPage();
    await page.setContent("<p>hello</p>");
    expect(await page.evaluate("typeof EventSource")).toBe("function");
    await page.evaluate("setTimeout(() => { throw new Error('boom') })");
    await waitFor(() => browser.pageErrors.length > 0, { message: "the page's uncaught error" });
    expect(browser.pageErrors).toEqual(["boom"]);
    await browser.close();
    expect(existsSync(browser.profileDir)).toBe(false);
  });
});
