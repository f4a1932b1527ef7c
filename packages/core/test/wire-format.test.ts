import { describe, expect, it } from "vitest";

import { MalformedPayloadError } from "../src/errors.js";
import { decodePayload, encodePayload, peekJobId } from "../src/wire-format.js";

const valid = {
  v: 1,
  job: "ReportJob",
  id: "6f1c3c1e-2d7f-4d5e-9f57-0c2b7b0f7a11",
  queue: "reports",
  priority: 0,
  args: { json: [1, "2026-11-01T00:00:00.000Z"], meta: { values: { "1": ["Date"] }, v: 1 } },
  executions: 0,
  enqueuedAt: "2026-11-23T10:00:00.000Z",
  runAt: "2026-11-23T10:10:00.000Z",
};

describe("wire format v1", () => {
  it("round-trips a payload as plain JSON", () => {
    const text = encodePayload(valid as never);
    expect(JSON.parse(text)).toEqual(valid);
    expect(decodePayload(text)).toEqual(valid);
  });

  it.each([
    ["{oops", /not JSON/],
    ["[]", /not a JSON object/],
    [JSON.stringify({ ...valid, v: 2 }), /unsupported version 2 \(expected 1\)/],
    [JSON.stringify({ ...valid, job: "" }), /"job" must be a non-empty string/],
    [JSON.stringify({ ...valid, id: 5 }), /"id" must be a non-empty string/],
    [JSON.stringify({ ...valid, priority: 1.5 }), /"priority" must be an integer/],
    [JSON.stringify({ ...valid, args: { json: {} } }), /"args" must be superjson output/],
    [JSON.stringify({ ...valid, executions: -1 }), /"executions" must be an integer >= 0/],
    [JSON.stringify({ ...valid, runAt: "tomorrow" }), /"runAt" must be an ISO-8601 date/],
    [JSON.stringify({ ...valid, runAt: "2026-11-23T10:10:00.000X" }), /"runAt" must be an ISO-8601 date/],
    [JSON.stringify({ ...valid, enqueuedAt: valid.runAt, runAt: `${valid.runAt} ` }), /"runAt" must be an ISO-8601 date/],
    [JSON.stringify({ ...valid, timeoutMs: 0 }), /"timeoutMs" must be an integer >= 1/],
    [JSON.stringify({ ...valid, exceptionExecutions: [1] }), /"exceptionExecutions" must be an object of counts/],
    [JSON.stringify({ ...valid, exceptionExecutions: null }), /"exceptionExecutions" must be an object of counts/],
    [JSON.stringify({ ...valid, exceptionExecutions: { ApiError: -1 } }), /"exceptionExecutions" "ApiError" must be an integer >= 0/],
    [JSON.stringify({ ...valid, exceptionExecutions: { ApiError: "2" } }), /"exceptionExecutions" "ApiError" must be an integer >= 0/],
    [JSON.stringify({ ...valid, attempts: {} }), /"attempts" must be an array of earlier runs/],
    [JSON.stringify({ ...valid, attempts: [null] }), /"attempts\[0\]" must be an object/],
    [JSON.stringify({ ...valid, attempts: [{ startedAt: "x", finishedAt: valid.runAt, error: { name: "E", message: "m" } }] }), /"attempts\[0\].startedAt" must be an ISO-8601 date/],
    [JSON.stringify({ ...valid, attempts: [{ startedAt: valid.runAt, finishedAt: valid.runAt, error: { name: "E" } }] }), /"attempts\[0\].error" must be an object with a name and a message/],
  ])("rejects %s naming what is wrong", (text, reason) => {
    expect(() => decodePayload(text)).toThrow(MalformedPayloadError);
    expect(() => decodePayload(text)).toThrow(reason);
  });

  it("accepts every form of date it always did, right after another valid one", () => {
    for (const runAt of ["2026-11-23T10:10:00Z", "2026-11-23T10:10:00.5+02:00", "2026-11-23T10:10:00.123456-05:30", valid.runAt]) {
      expect(decodePayload(JSON.stringify({ ...valid, runAt })).runAt).toBe(runAt);
    }
  });

  it.each([
    [{ id: "" }, /"batch.id" must be a non-empty string/],
    [{ id: 7 }, /"batch.id" must be a non-empty string/],
    [{ id: "x".repeat(201) }, /"batch.id" is 201 characters, more than 200/],
    [{ id: "b", callback: "done" }, /"batch.callback" must be "success", "complete" or "failure"/],
    [{ id: "b", parent: "a" }, /"batch.parent" is not a batch field/],
    [["b"], /"batch" must be an object/],
    [null, /"batch" must be an object/],
  ])("rejects batch %j naming what is wrong", (batch, reason) => {
    expect(() => decodePayload(JSON.stringify({ ...valid, batch }))).toThrow(MalformedPayloadError);
    expect(() => decodePayload(JSON.stringify({ ...valid, batch }))).toThrow(reason);
  });

  it("carries a batch membership as it is", () => {
    for (const batch of [{ id: "x".repeat(200) }, { id: "b", callback: "success" }, { id: "b", callback: "complete" }, { id: "b", callback: "failure" }]) {
      expect(decodePayload(JSON.stringify({ ...valid, batch })).batch).toEqual(batch);
    }
  });

  it("carries retry rules' counters as they are", () => {
    const withCounters = { ...valid, executions: 3, exceptionExecutions: { ApiError: 2, "LimitError,GoneError": 1 } };
    expect(decodePayload(encodePayload(withCounters as never))).toEqual(withCounters);
  });

  it("peeks the id of a body that fails validation, for the dead set", () => {
    expect(peekJobId(JSON.stringify({ id: "abc", v: 9 }))).toBe("abc");
    expect(peekJobId("nope")).toBeUndefined();
  });
});
