// Shared by both pages: a form posts, the server answers at once with { jobId, statusUrl },
// and the page follows that job with @errand/client's watchJob — pushed over Server-Sent
// Events, or polled where EventSource is missing or cut — until it ends. The status URL goes
// into the address bar (?status=…), so a reload or a shared link shows the same job.
//
// For tests (and curious readers) the view's state is in data attributes: #job[data-state]
// is "waiting", then each state the job goes through, then "error" if watching failed;
// #job[data-updates] counts the updates received, #job[data-version] is the last one's.
import { watchJob } from "@errand/client";

const view = document.getElementById("job");
const formError = document.getElementById("form-error");
const answered = document.getElementById("answered");
const part = (role) => view.querySelector(`[data-role="${role}"]`);

/** Shows a status: state, progress bar and message. */
function show(status) {
  view.dataset.state = status.state;
  view.dataset.version = status.version;
  part("id").textContent = status.id;
  part("state").textContent = status.state;
  if (status.progress) {
    part("bar").value = status.progress.fraction;
    part("message").textContent = status.progress.message ?? "";
  }
}

function showError(element, text) {
  element.textContent = text;
  element.hidden = false;
}

let following; // the AbortController of the job on screen

/** Follows the job at `statusUrl` until it ends; `renderResult(result, element)` shows a success. */
export async function follow(statusUrl, renderResult) {
  following?.abort();
  const controller = (following = new AbortController());
  const { signal } = controller;
  view.hidden = false;
  view.dataset.state = "waiting";
  view.dataset.updates = "0";
  part("id").textContent = new URL(statusUrl, location.href).pathname.split("/").pop();
  part("state").textContent = "waiting";
  part("bar").value = 0;
  part("message").textContent = "";
  part("error").hidden = true;
  part("result").replaceChildren();
  let updates = 0;
  try {
    const final = await watchJob(statusUrl, {
      signal,
      onUpdate(status) {
        if (signal.aborted) return;
        view.dataset.updates = String(++updates);
        show(status);
      },
    });
    if (signal.aborted) return;
    show(final);
    if (final.state === "succeeded") renderResult(final.result, part("result"));
    else showError(part("error"), `The job ${final.state}: ${final.error ? `${final.error.name}: ${final.error.message}` : "no error recorded"}`);
  } catch (error) {
    if (signal.aborted) return;
    view.dataset.state = "error";
    part("state").textContent = "not available";
    showError(part("error"), error instanceof Error ? error.message : String(error));
  }
}

/**
 * Makes `form` post `bodyOf(new FormData(form))` as JSON to `path` and follow the job it
 * starts; follows the job in the address bar's ?status= first, if there is one.
 */
export function bindForm(form, path, bodyOf, renderResult) {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    formError.hidden = true;
    const started = performance.now();
    let response;
    let answer;
    try {
      response = await fetch(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(bodyOf(new FormData(form))) });
      answer = await response.json();
    } catch (error) {
      return showError(formError, `POST ${path} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    const ms = performance.now() - started;
    if (!response.ok) return showError(formError, answer.error ?? `POST ${path} answered ${response.status}`);
    answered.textContent = `POST ${path} answered ${response.status} in ${ms.toFixed(0)} ms with job ${answer.jobId}`;
    answered.hidden = false;
    history.replaceState(null, "", `?status=${encodeURIComponent(answer.statusUrl)}`);
    void follow(answer.statusUrl, renderResult);
  });

  const status = new URLSearchParams(location.search).get("status");
  if (status !== null) {
    // Only this site's status URLs: the address bar is not to send the page elsewhere.
    if (status.startsWith("/jobs/")) void follow(status, renderResult);
    else showError(formError, `?status= must be a path under /jobs/, got ${JSON.stringify(status)}`);
  }
  document.body.dataset.ready = "true";
}
