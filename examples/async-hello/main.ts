// The runnable example of packages/adapter-async/README.md (kept identical by test/readme.test.ts).
import { configure, Job } from "@errand/core";
import { waitFor } from "@errand/core/testing";

class HelloJob extends Job<[name: string], string> {
  perform(name: string) {
    return `hello ${name}`;
  }
}

const runtime = configure({ adapter: "async", worker: { concurrency: 5 } });
await runtime.start(); // start the pool with the app (else: at the first enqueue)
const { jobId } = await HelloJob.performLater("ada");
const status = await waitFor(async () => {
  const current = await HelloJob.status(jobId);
  return current?.state === "succeeded" && current;
});
console.log(status.result); // "hello ada"
await runtime.close(); // lets running jobs finish
