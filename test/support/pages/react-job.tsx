// A page with a small React component over `useJob`: a progress bar and message while the
// job runs, then its items (or its error). The status URL comes from `?watch=`; tests change
// it or unmount the component through `globalThis.jobPage`.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { useJob } from "@errand/client/react";

function JobView({ url }: { url: string | null }) {
  const { status, error, done } = useJob(url, { pollInterval: 50 });
  if (!url) return <p id="idle">no job</p>;
  if (error) return <p id="error">{error instanceof Error ? `${error.name}: ${error.message}` : String(error)}</p>;
  if (!status) return <p id="waiting">waiting</p>;
  if (!done) {
    return (
      <div>
        <progress id="progress" max={1} value={status.progress?.fraction ?? 0} />
        <span id="message">{status.progress?.message ?? status.state}</span>
      </div>
    );
  }
  if (status.state !== "succeeded") return <p id="failed">{status.error?.message}</p>;
  return (
    <ul id="result">
      {(status.result as string[]).map((item) => (
        <li key={item}>{item}</li>
      ))}
    </ul>
  );
}

const root = createRoot(document.getElementById("root")!);
const render = (url: string | null) =>
  root.render(
    <StrictMode>
      <JobView url={url} />
    </StrictMode>,
  );
render(new URLSearchParams(location.search).get("watch"));

(globalThis as unknown as { jobPage: unknown }).jobPage = { setUrl: render, unmount: () => root.unmount() };
document.title = "job page ready";
