// @errand/client stays small: its main entry, bundled and minified with esbuild as a page
// ships it, is under 2 KB gzipped (packages/client/scripts/size.mjs, `npm run size -w @errand/client`).
import { describe, expect, it } from "vitest";

import { measureClientSize } from "../packages/client/scripts/size.mjs";

describe("@errand/client size", () => {
  it("its main entry is under 2048 bytes gzipped", async () => {
    const { minified, gzipped } = await measureClientSize();
    expect(minified).toBeGreaterThan(1000); // measured the real bundle, not an empty one
    expect(gzipped).toBeLessThan(2048);
  });
});
