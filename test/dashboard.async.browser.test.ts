// The dashboard in Chromium on the async adapter: jobs run in the app's own pool.
import { AsyncAdapter } from "@errand/adapter-async";

import { runDashboardScenarios } from "./dashboard/scenarios.js";

runDashboardScenarios({ name: "async", adapter: async () => new AsyncAdapter() });
