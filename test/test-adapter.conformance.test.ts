// Conformance wiring for core's recording test adapter, which is a complete (polling) adapter.
import { TestAdapter } from "@errand/core/testing";

import { runConformance } from "./conformance/index.js";

runConformance({
  name: "test",
  capabilities: new TestAdapter().capabilities,
  create: async () => new TestAdapter(),
  // The test adapter keeps bodies as given, so a raw body can be stored as it is.
  insertRaw: async (adapter, body, queue) => {
    const now = new Date().toISOString();
    (adapter as TestAdapter).store.put({ v: 1, job: "raw", id: crypto.randomUUID(), queue, priority: 0, args: { json: [] }, executions: 0, enqueuedAt: now, runAt: now }, body);
  },
});
