// @errand/client's input checks, run in Node (the checks need no browser): an unknown or
// ill-typed option is an error naming it, before any request.
import { afterAll, beforeAll, describe, expect, it } from "vitest";

import { WatchError, type WatchOptions, isFinished, watchJob } from "@errand/client";

import { type StatusFixture, startStatusFixture } from "./support/status-fixture.js";

let fixture: StatusFixture;
let url: string;
beforeAll(async () => {
  fixture = await startStatusFixture();
  url = `${fixture.origin}${fixture.job().statusUrl}`;
});
afterAll(() => fixture.close());

describe("watchJob refuses bad input before any request", () => {
  it.each([
    [{ pollIntervall: 500 }, 'watchJob: unknown option "pollIntervall" (known: onUpdate, signal, transport, pollInterval,'],
    [{ pollInterval: 0 }, "watchJob: pollInterval must be a positive number of ms, not number 0"],
    [{ pollInterval: "1000" }, "watchJob: pollInterval must be a positive number of ms, not string 1000"],
    [{ maxPollInterval: Number.NaN }, "watchJob: maxPollInterval must be a positive number of ms, not number NaN"],
    [{ firstEventTimeout: Infinity }, "watchJob: firstEventTimeout must be a positive number of ms, not number Infinity"],
    [{ pollInterval: 5000, maxPollInterval: 1000 }, "watchJob: maxPollInterval (1000) is below pollInterval (5000)"],
    [{ transport: "websocket" }, 'watchJob: transport must be "auto", "sse" or "poll", not "websocket"'],
    [{ onUpdate: "render" }, "watchJob: onUpdate must be a function"],
    [{ fetch: {} }, "watchJob: fetch must be a function"],
  ])("%j", async (options, message) => {
    const before = fixture.requests.length;
    await expect(watchJob(url, options as unknown as WatchOptions)).rejects.toThrow(message);
    await expect(watchJob(url, options as unknown as WatchOptions)).rejects.toBeInstanceOf(TypeError);
    expect(fixture.requests.length).toBe(before);
  });

  it("a relative URL without a page to resolve it against", async () => {
    await expect(watchJob("/jobs/1?token=t")).rejects.toThrow('watchJob: url must be absolute or relative to the page, not "/jobs/1?token=t"');
  });

  it("options that are not an object", async () => {
    await expect(watchJob(url, 5 as unknown as WatchOptions)).rejects.toThrow("watchJob: options must be an object");
  });

  it("an aborted signal rejects with its reason and sends nothing", async () => {
    const before = fixture.requests.length;
    const reason = new Error("page closed");
    await expect(watchJob(url, { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(fixture.requests.length).toBe(before);
  });

  it('transport "sse" without EventSource is a WatchError, not a silent fallback', async () => {
    expect(globalThis.EventSource).toBeUndefined();
    const error = await watchJob(url, { transport: "sse" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(WatchError);
    expect(error).toMatchObject({ name: "WatchError", status: 0, code: "no_eventsource" });
  });
});

describe("isFinished", () => {
  it.each([
    ["succeeded", true],
    ["failed", true],
    ["dead", true],
    ["scheduled", false],
    ["queued", false],
    ["running", false],
    ["retrying", false],
  ] as const)("%s -> %s", (state, finished) => {
    expect(isFinished(state)).toBe(finished);
    expect(isFinished({ ...fixture.job().current, state })).toBe(finished);
  });
});
