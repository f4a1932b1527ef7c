// Conformance wiring for @errand/adapter-async: a fresh in-memory store per case.
import { AsyncAdapter } from "@errand/adapter-async";

import { runConformance } from "./conformance/index.js";

runConformance({
  name: "async",
  capabilities: new AsyncAdapter().capabilities,
  create: async () => new AsyncAdapter(),
});
