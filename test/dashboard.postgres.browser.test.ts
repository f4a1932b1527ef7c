// The dashboard in Chromium on PostgreSQL, in a schema of its own: the same scenarios as on
// the async adapter, over migration 014's counts, listings and control tables.
import { PostgresAdapter } from "@errand/adapter-postgres";

import { runDashboardScenarios } from "./dashboard/scenarios.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";

const url = postgresUrl();
const schema = schemaName("errand_dash");

runDashboardScenarios({
  name: "postgres",
  adapter: async () => new PostgresAdapter({ url, schema }),
  cleanup: () => dropSchemas(url, [schema]),
});
