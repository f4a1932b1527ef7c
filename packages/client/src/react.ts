/**
 * `useJob`: the React hook over `watchJob`. One watch per URL: a new URL aborts the old
 * watch and starts another; unmounting aborts it. The options are read when the watch
 * starts (a new options object on each render does not restart it).
 *
 * @module
 */
import { useEffect, useRef, useState } from "react";

import { type JobStatusJSON, type WatchOptions } from "./types.js";
import { watchJob } from "./watch.js";

/** What {@link useJob} returns. */
export interface JobWatch {
  /** The latest status, or null before the first one arrives (or without a URL). */
  status: JobStatusJSON | null;
  /** Why the watch ended without a final status (a `WatchError`), else null. */
  error: unknown;
  /** True once the job finished (inspect `status.state`) or the watch failed (`error`). */
  done: boolean;
}

/** Options of {@link useJob}: those of `watchJob` but `signal`, which the hook owns. */
export type UseJobOptions = Omit<WatchOptions, "signal">;

const IDLE: JobWatch = { status: null, error: null, done: false };

/**
 * Watches the job at `url` (a status URL such as `/jobs/<id>?token=<token>`) and re-renders
 * on each change. Pass null or undefined to watch nothing.
 *
 * @example
 * const { status, error, done } = useJob(statusUrl);
 * if (error) return <p>Could not follow the job</p>;
 * if (!done) return <progress value={status?.progress?.fraction ?? 0} />;
 */
export function useJob(url: string | URL | null | undefined, options?: UseJobOptions): JobWatch {
  const key = url == null ? null : String(url);
  const [watch, setWatch] = useState<JobWatch & { key: string | null }>({ ...IDLE, key: null });
  const latestOptions = useRef(options);
  latestOptions.current = options;

  useEffect(() => {
    if (key == null) return;
    const own = latestOptions.current ?? {};
    if ("signal" in own) throw new TypeError("useJob: the hook owns the signal; unmount or change the URL to stop watching");
    const controller = new AbortController();
    watchJob(key, {
      ...own,
      signal: controller.signal,
      onUpdate: (status) => {
        setWatch({ status, error: null, done: false, key });
        own.onUpdate?.(status);
      },
    }).then(
      (status) => setWatch({ status, error: null, done: true, key }),
      (error: unknown) => {
        if (!controller.signal.aborted) setWatch((last) => ({ status: last.key == key ? last.status : null, error, done: true, key }));
      },
    );
    return () => controller.abort();
  }, [key]);

  return watch.key == key && key != null ? { status: watch.status, error: watch.error, done: watch.done } : IDLE;
}
