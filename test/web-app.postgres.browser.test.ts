// The web example in Chromium on PostgreSQL: a Worker runs the jobs, and statuses reach the
// page through LISTEN/NOTIFY.
import { PostgresAdapter } from "@errand/adapter-postgres";

import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { runWebAppScenarios } from "./web-app/scenarios.js";

const url = postgresUrl();
const schema = schemaName("errand_web");

runWebAppScenarios({
  name: "postgres",
  adapter: async () => new PostgresAdapter({ url, schema }),
  cleanup: () => dropSchemas(url, [schema]),
});
