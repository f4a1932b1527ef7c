// The runnable example of packages/client/README.md (test/client-readme.browser.test.ts runs it).
import { watchJob } from "@errand/client";

// The app enqueued a report job and answered with its id and a status token.
const { jobId, token } = await (await fetch("/reports", { method: "POST" })).json();
const bar = document.querySelector("progress")!;
const output = document.querySelector("output")!;

const final = await watchJob(`/jobs/${jobId}?token=${token}`, {
  onUpdate: (status) => {
    bar.value = status.progress?.fraction ?? 0;
    output.textContent = status.progress?.message ?? status.state;
  },
});
output.textContent =
  final.state === "succeeded" ? `${(final.result as { rows: number }).rows} rows` : `failed: ${final.error?.message}`;
