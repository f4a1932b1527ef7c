// The runnable example of packages/core/README.md's Flow control (kept identical by test/readme.test.ts).
import { configure, Job, limitConcurrency, performAllLater, unique } from "@errand/core";
import { waitFor } from "@errand/core/testing";

@unique({ key: (url: string) => url, while: "queued" })
class RefreshFeedJob extends Job<[url: string]> {
  async perform(url: string) {
    return url;
  }
}

let running = 0;
let most = 0;
@limitConcurrency({ key: (accountId: number) => `account:${accountId}`, limit: 1 })
class SyncAccountJob extends Job<[accountId: number, page: number]> {
  async perform(_accountId: number, _page: number) {
    most = Math.max(most, ++running);
    await new Promise((resolve) => setTimeout(resolve, 10)); // the work
    running--;
  }
}

const runtime = configure({ app: "example", adapter: "async", worker: { concurrency: 5 } });
const url = "https://example.com/feed.xml";
const [first, again] = await performAllLater([new RefreshFeedJob(url), new RefreshFeedJob(url)]);
console.log(again!.duplicate, again!.jobId === first!.jobId); // true true: nothing new was stored

const pages = await performAllLater([1, 2, 3, 4, 5].map((page) => new SyncAccountJob(7, page)));
await waitFor(async () => (await Promise.all(pages.map((p) => SyncAccountJob.status(p.jobId)))).every((s) => s?.state === "succeeded"));
console.log(`5 pages synced, at most ${most} at once`); // 5 pages synced, at most 1 at once
await runtime.close();
