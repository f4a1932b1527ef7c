/**
 * The dashboard's page script: progressive enhancement only — every page and action works
 * without it. It adds:
 *
 * - confirmations: a form or button with `data-confirm` asks in a dialog first;
 * - actions without reloads: a POST form is sent with `fetch`, and the page it leads to (the
 *   page it came from, with a notice; or a confirmation page) replaces `<main>`;
 * - live counts: pages with `data-live="queues"` follow `<base>/live/queues` and copy each
 *   count into its cell; when a queue appears, goes, or is paused or resumed, `<main>` is
 *   fetched again;
 * - a live job: `data-live="job"` follows the job's status stream; progress is updated in
 *   place and a new state fetches `<main>` again;
 * - a live batch: `data-live="batch"` follows `<base>/live/queues` too (one shared poll) and,
 *   on each change there, fetches the page again, swapping `<main>` in only when its
 *   `data-batch-signature` changed (so the stream a swap restarts does not loop);
 * - "select all" on a jobs page.
 *
 * A refresh and an action's answer both replace `<main>`, so they are ordered: an action
 * makes any refresh begun before it stale (its answer is dropped: it would put back the page
 * as it was before the action, without the action's notice), and no refresh starts while an
 * action is on its way. Nothing is lost by dropping one: the action's answer restarts the
 * live stream, whose first event says again whether the page is out of date; an event that
 * asks for a refresh while one is out gets another once it is done. While a refresh or an
 * action is in flight `<main>` has `aria-busy="true"`.
 *
 * Served as it is built (one module, no imports), under a content-hashed name.
 */
export {};

interface QueueRowEvent {
  name: string;
  counts: Record<string, string>;
  raw: Record<string, number>;
  latency: string;
  chart: string;
}
interface QueuesEvent {
  signature: string;
  rows: QueueRowEvent[];
  totals: Record<string, string>;
}
interface StatusEvent {
  state: string;
  progress: { fraction: number; message?: string } | null;
}

const body = document.body;
let source: EventSource | undefined;

const liveStatus = (text: string) => {
  const element = document.querySelector<HTMLElement>("[data-live-status]");
  if (element) element.textContent = text;
};

/** Replaces `<main>` (and the title, and the body's data) with those of `html`. */
function swap(html: string, url: string | undefined, focus: boolean): void {
  const next = new DOMParser().parseFromString(html, "text/html");
  const main = next.querySelector("main");
  const current = document.querySelector("main");
  if (!main || !current) return;
  current.replaceWith(main);
  document.title = next.title;
  for (const key of Object.keys(body.dataset)) if (key !== "ready") delete body.dataset[key];
  Object.assign(body.dataset, next.body.dataset, { ready: "1" });
  if (url && url !== location.href) history.replaceState(null, "", url);
  enhance();
  startLive();
  if (focus) main.focus();
}

let refreshing = false;
/** Actions sent with fetch so far: a refresh begun at an earlier count is stale. */
let actionsSent = 0;
/** Actions on their way. */
let submitting = 0;

/** Marks `<main>` busy while a refresh or an action is in flight. */
function markBusy(): void {
  const main = document.querySelector("main");
  if (!main) return;
  if (refreshing || submitting > 0) main.setAttribute("aria-busy", "true");
  else main.removeAttribute("aria-busy");
}

/** A refresh was asked for while one was out: it may have been served before the change. */
let again = false;

const BATCH_SIGNATURE = /data-batch-signature="([^"]*)"/;

/**
 * Fetches the current page again and swaps its `<main>` in, unless an action overtook it;
 * with `ifChanged`, only when the batch signature differs from the page's.
 */
async function refresh(ifChanged = false): Promise<void> {
  if (submitting > 0) return;
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = true;
  again = false;
  markBusy();
  const asOf = actionsSent;
  try {
    const response = await fetch(location.href, { credentials: "same-origin", headers: { accept: "text/html" } });
    const text = response.ok ? await response.text() : undefined;
    const unchanged = ifChanged && text !== undefined && BATCH_SIGNATURE.exec(text)?.[1] === document.querySelector<HTMLElement>("[data-batch-signature]")?.dataset.batchSignature;
    if (text !== undefined && asOf === actionsSent && !unchanged) swap(text, undefined, false);
  } catch {
    // offline for a moment: the next event tries again
  } finally {
    refreshing = false;
    markBusy();
  }
  if (again) void refresh(ifChanged);
}

function startLive(): void {
  source?.close();
  source = undefined;
  const base = body.dataset.base ?? "";
  if (body.dataset.live === "queues") {
    source = new EventSource(`${base}/live/queues`);
    source.addEventListener("queues", (event) => applyCounts(JSON.parse((event as MessageEvent<string>).data) as QueuesEvent));
    source.addEventListener("unavailable", () => liveStatus("backend unreachable"));
  } else if (body.dataset.live === "batch") {
    source = new EventSource(`${base}/live/queues`);
    source.addEventListener("queues", () => void refresh(true));
    source.addEventListener("unavailable", () => liveStatus("backend unreachable"));
  } else if (body.dataset.live === "job" && body.dataset.jobId) {
    source = new EventSource(`${base}/status/${encodeURIComponent(body.dataset.jobId)}/events`);
    source.addEventListener("status", (event) => applyStatus(JSON.parse((event as MessageEvent<string>).data) as StatusEvent));
  }
  if (!source) return liveStatus("");
  const opened = source;
  opened.addEventListener("open", () => liveStatus("live"));
  opened.addEventListener("error", () => liveStatus(opened.readyState === EventSource.CLOSED ? "" : "reconnecting…"));
}

function applyCounts(data: QueuesEvent): void {
  liveStatus("live");
  const marked = document.querySelector<HTMLElement>("[data-signature]");
  if (marked && marked.dataset.signature !== data.signature) {
    void refresh();
    return;
  }
  const rows = new Map(data.rows.map((row) => [row.name, row]));
  for (const tr of document.querySelectorAll<HTMLElement>("tr[data-queue]")) {
    const row = rows.get(tr.dataset.queue ?? "");
    if (!row) continue;
    for (const cell of tr.querySelectorAll<HTMLElement>("[data-count]")) setCount(cell, row.counts[cell.dataset.count ?? ""]);
    const latency = tr.querySelector<HTMLElement>("[data-latency]");
    if (latency) latency.textContent = row.latency;
    const chart = tr.querySelector<HTMLElement>("[data-chart]");
    // The chart's markup is built and escaped by the server, as the page's own is.
    if (chart && chart.innerHTML !== row.chart) chart.innerHTML = row.chart;
  }
  const only = body.dataset.queue;
  const totals = only === undefined ? data.totals : rows.get(only)?.counts ?? {};
  for (const cell of document.querySelectorAll<HTMLElement>("[data-total]")) setCount(cell, totals[cell.dataset.total ?? ""]);
}

function setCount(cell: HTMLElement, text: string | undefined): void {
  if (text === undefined) return;
  const link = cell.querySelector("a") ?? cell;
  if (link.textContent === text) return;
  cell.classList.toggle("zero", text === "0");
  link.textContent = text;
  const label = link.getAttribute("aria-label");
  if (label) link.setAttribute("aria-label", label.replace(/: [^:]*$/, `: ${text}`));
}

function applyStatus(status: StatusEvent): void {
  liveStatus("live");
  if (status.state !== body.dataset.state) {
    void refresh();
    return;
  }
  const fraction = status.progress?.fraction ?? 0;
  const bar = document.querySelector<HTMLProgressElement>("[data-progress]");
  if (bar) bar.value = fraction;
  const percent = document.querySelector("[data-progress-text]");
  if (percent) percent.textContent = `${Math.round(fraction * 100)}%`;
  const message = document.querySelector("[data-progress-message]");
  if (message) message.textContent = status.progress?.message ?? "";
}

/** Sends a POST form with fetch and shows the page it leads to. */
async function submit(form: HTMLFormElement, submitter: HTMLElement | null, confirmed: boolean): Promise<void> {
  const data = new URLSearchParams(new FormData(form, submitter) as unknown as Record<string, string>);
  if (confirmed) data.set("confirm", "1");
  for (const button of form.querySelectorAll("button")) button.disabled = true;
  actionsSent++;
  submitting++;
  markBusy();
  let answer: { text: string; url: string | undefined } | undefined;
  try {
    // getAttribute: a field named "action" (ours are) shadows `form.action`.
    const response = await fetch(new URL(form.getAttribute("action") ?? "", location.href), { method: "POST", body: data, credentials: "same-origin", headers: { accept: "text/html" } });
    answer = { text: await response.text(), url: response.redirected ? response.url : undefined };
  } catch {
    // The network failed: the browser posts it the ordinary way, below.
  } finally {
    submitting--;
  }
  if (answer) swap(answer.text, answer.url, true);
  else {
    form.dataset.plain = "1";
    form.requestSubmit(submitter as HTMLButtonElement | null);
  }
  markBusy();
}

document.addEventListener("submit", (event) => {
  const form = event.target as HTMLFormElement;
  if ((form.getAttribute("method") ?? "").toLowerCase() !== "post" || form.dataset.plain) return;
  const submitter = (event as SubmitEvent).submitter;
  const question = submitter?.dataset.confirm ?? form.dataset.confirm;
  event.preventDefault();
  if (question !== undefined && !window.confirm(question)) return;
  void submit(form, submitter, question !== undefined);
});

function enhance(): void {
  const all = document.querySelector<HTMLInputElement>("[data-select-all]");
  if (all) {
    all.hidden = false;
    all.addEventListener("change", () => {
      for (const box of document.querySelectorAll<HTMLInputElement>('input[name="ids"][form="bulk"]')) box.checked = all.checked;
    });
  }
}

enhance();
startLive();
body.dataset.ready = "1";
