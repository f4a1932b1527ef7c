/**
 * `watchJob`: follows one job's status from the page until the job finishes.
 *
 * One watch moves between these states and ends exactly once:
 *
 * - **streaming**: an EventSource on `<status path>/events`. Each `status` event is
 *   delivered; a final one closes the EventSource (else it would reconnect) and resolves.
 *   An error while the EventSource is CONNECTING is a dropped connection it re-opens by
 *   itself, sending `Last-Event-ID`, so nothing is done. An error with readyState CLOSED
 *   means the stream was refused: go **polling**, whose first request tells why (403/404
 *   end the watch). With `transport: "auto"`, no event within `firstEventTimeout` also
 *   goes **polling**: the server sends the current status at once, so silence means a proxy
 *   buffers the stream.
 * - **polling**: GET the status URL, deliver, wait, repeat. The wait starts at
 *   `pollInterval`, grows ×1.5 up to `maxPollInterval` while nothing changes or requests
 *   fail (a network drop is waited out, never fatal), drops back to `pollInterval` on a
 *   change, and is at least the server's `Retry-After`. With `transport: "sse"` the wait
 *   leads back to **streaming** instead.
 * - **ended**: resolved with the final status, or rejected with a `WatchError` (a 4xx, an
 *   answer that is not a status), the exception `onUpdate` threw, or the signal's reason.
 *   Timers, the EventSource and any request in flight are stopped.
 *
 * Delivery is once per distinct `version`: the status sent again after a reconnect, or the
 * same status read by successive polls, is not delivered twice.
 *
 * @module
 */
import { type JobStatusJSON, type WatchOptions, WatchError, isFinished } from "./types.js";

const OPTIONS = "onUpdate signal transport pollInterval maxPollInterval firstEventTimeout EventSource fetch".split(" ");

/**
 * Watches a job until it is `succeeded`, `failed` or `dead`, and resolves with that final
 * status (inspect its `state`). `url` is the status URL the server handed the page, such as
 * `/jobs/<id>?token=<token>`; the event stream is at the same path plus `/events`.
 *
 * Rejects with a {@link WatchError} when the server refuses (403 bad token, 404 unknown
 * job), and with `signal.reason` when aborted.
 *
 * @example
 * const final = await watchJob(`/jobs/${jobId}?token=${token}`, {
 *   onUpdate: (status) => (bar.value = status.progress?.fraction ?? 0),
 * });
 */
export function watchJob(url: string | URL, options: WatchOptions = {}): Promise<JobStatusJSON> {
  return new Promise((resolve, reject) => {
    const fail = (what: string) => {
      throw new TypeError(`watchJob: ${what}`);
    };
    if (typeof options != "object" || !options) fail("options must be an object");
    for (const key in options) if (!OPTIONS.includes(key)) fail(`unknown option "${key}" (known: ${OPTIONS.join(", ")})`);
    const ms = (name: keyof WatchOptions, fallback: number): number => {
      const value = options[name] ?? fallback;
      if (typeof value != "number" || !(value > 0 && value < Infinity)) fail(`${name} must be a positive number of ms, not ${typeof value} ${String(value)}`);
      return value as number;
    };
    const pollInterval = ms("pollInterval", 1000);
    const maxPollInterval = ms("maxPollInterval", 10_000);
    const firstEventTimeout = ms("firstEventTimeout", 5000);
    if (maxPollInterval < pollInterval) fail(`maxPollInterval (${maxPollInterval}) is below pollInterval (${pollInterval})`);
    const { onUpdate, signal, transport = "auto" } = options;
    if (!/^(auto|sse|poll)$/.test(transport)) fail(`transport must be "auto", "sse" or "poll", not "${transport}"`);
    for (const name of ["onUpdate", "EventSource", "fetch"] as const) {
      if (options[name] != null && typeof options[name] != "function") fail(`${name} must be a function`);
    }
    let statusUrl: URL;
    try {
      statusUrl = new URL(url, globalThis.location?.href);
    } catch {
      return fail(`url must be absolute or relative to the page, not "${String(url)}"`);
    }
    const eventsUrl = new URL(statusUrl);
    eventsUrl.pathname = eventsUrl.pathname.replace(/\/$/, "") + "/events";
    const Source = options.EventSource ?? globalThis.EventSource;
    const get = options.fetch ?? globalThis.fetch;

    const inFlight = new AbortController();
    const seen = new Set<string>();
    let ended = false;
    let source: EventSource | undefined;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = pollInterval;

    const end = (error: unknown, status?: JobStatusJSON) => {
      if (ended) return;
      ended = true;
      source?.close();
      clearTimeout(timer);
      inFlight.abort();
      signal?.removeEventListener("abort", aborted);
      status ? resolve(status) : reject(error);
    };
    const aborted = () => end(signal!.reason);

    /** Parses an answer and delivers it unless its version was seen; true when it was new. */
    const deliver = (text: string, httpStatus: number): boolean => {
      let status: JobStatusJSON | undefined;
      try {
        status = JSON.parse(text);
      } catch {}
      if (typeof status?.version != "string" || typeof status.state != "string") {
        throw new WatchError(`watchJob: ${statusUrl.pathname} answered something that is not a job status: ${text.slice(0, 80)}`, httpStatus, "invalid_response");
      }
      if (seen.has(status.version)) return false;
      seen.add(status.version);
      onUpdate?.(status);
      if (isFinished(status)) end(null, status);
      return true;
    };

    const stream = () => {
      const current = (source = new Source(eventsUrl.href));
      if (transport == "auto") {
        timer = setTimeout(() => {
          current.close();
          poll();
        }, firstEventTimeout);
      }
      current.addEventListener("status", (event) => {
        clearTimeout(timer);
        try {
          deliver((event as MessageEvent).data, 200);
        } catch (error) {
          end(error);
        }
      });
      current.onerror = () => {
        if (current.readyState == 2 && !ended) {
          clearTimeout(timer);
          poll();
        }
      };
    };

    const poll = async () => {
      source = undefined;
      let response: Response;
      let text: string;
      let wait: number;
      try {
        response = await get(statusUrl.href, { headers: { accept: "application/json" }, cache: "no-store", signal: inFlight.signal });
        text = await response.text();
      } catch {
        // A network error (or the abort that ended the watch): wait longer and try again.
        if (ended) return;
        timer = setTimeout(transport == "sse" ? stream : poll, (delay = Math.min(delay * 1.5, maxPollInterval)));
        return;
      }
      if (ended) return;
      const code = response.status;
      try {
        if (response.ok) {
          wait = delay = deliver(text, code) ? pollInterval : Math.min(delay * 1.5, maxPollInterval);
        } else if (code >= 500 || code == 408 || code == 429) {
          delay = Math.min(delay * 1.5, maxPollInterval);
          wait = Math.max(delay, Number(response.headers.get("retry-after")) * 1000 || 0);
        } else {
          let body: { error?: string; message?: string } | undefined;
          try {
            body = JSON.parse(text);
          } catch {}
          throw new WatchError(body?.message ?? `watchJob: ${statusUrl.pathname} answered HTTP ${code}`, code, body?.error ?? `http_${code}`);
        }
      } catch (error) {
        return end(error);
      }
      if (!ended) timer = setTimeout(transport == "sse" ? stream : poll, wait);
    };

    if (signal?.aborted) return aborted();
    signal?.addEventListener("abort", aborted);
    if (transport == "poll") poll();
    else if (Source) stream();
    else if (transport == "sse") end(new WatchError("watchJob: transport \"sse\" needs EventSource, which is missing here", 0, "no_eventsource"));
    else poll();
  });
}
