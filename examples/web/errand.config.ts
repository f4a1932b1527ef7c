/**
 * The web example's Errand configuration, read by the web process (`main.ts` passes it to
 * `configure`) and by `errand work --config examples/dist/web/errand.config.js`, so both
 * sides agree on the backend and the jobs.
 *
 * The backend is the async adapter (jobs run in the web process, nothing to install) unless
 * `ERRAND_URL` names another: `redis://127.0.0.1:6379` or `postgres://…`, and then
 * `errand work` processes run the jobs (see the Procfile).
 */
import { defineConfig } from "@errand/core";

import { FetchFeedJob } from "./fetch-feed-job.js";
import { ReportJob } from "./report-job.js";

export default defineConfig({
  app: "errand-web",
  adapter: "async",
  jobs: [FetchFeedJob, ReportJob],
  worker: { concurrency: 10, queues: ["feeds", "reports"] },
});
