// An unreachable backend is 503 with Retry-After (issue 12, item 3), for JSON and event
// streams alike: the page's client backs off and tries again instead of giving up.
import { afterAll, describe, expect, it } from "vitest";

import { ConnectionError, configure, jobStatusHandler, statusToken, statusWatchers, watchStatus } from "@errand/core";

const SECRET = "test-secret-that-is-long-enough-0123456789";
// Port 1 on loopback: nothing listens, so connections are refused at once.
const runtime = configure({ adapter: { use: "postgres", url: "postgres://root@127.0.0.1:1/test" } });
afterAll(() => runtime.close());

describe("jobStatusHandler with the backend down", () => {
  it("answers 503 with Retry-After for JSON and events", async () => {
    const handler = jobStatusHandler({ basePath: "/jobs", secret: SECRET, runtime });
    const jobId = "0193a000-0000-7000-8000-000000000000";
    const token = statusToken(jobId, { secret: SECRET });
    for (const path of [`/jobs/${jobId}`, `/jobs/${jobId}/events`]) {
      const response = await handler(new Request(`http://x${path}?token=${token}`));
      expect(response.status).toBe(503);
      expect(response.headers.get("retry-after")).toBe("5");
      expect(await response.json()).toEqual({ error: "unavailable", message: "the job backend cannot be reached; try again" });
    }
  });

  it("watchStatus fails with ConnectionError instead of waiting, and keeps no watcher", async () => {
    await expect(watchStatus("0193a000-0000-7000-8000-000000000001", { runtime }).next()).rejects.toBeInstanceOf(ConnectionError);
    expect(await statusWatchers({ runtime })).toEqual({ jobs: 0, watchers: 0 });
  });
});
