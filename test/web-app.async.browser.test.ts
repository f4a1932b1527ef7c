// The web example in Chromium on the async adapter: jobs run in the web process's own pool.
import { AsyncAdapter } from "@errand/adapter-async";

import { runWebAppScenarios } from "./web-app/scenarios.js";

runWebAppScenarios({ name: "async", adapter: async () => new AsyncAdapter() });
