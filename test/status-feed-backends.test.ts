// What the conformance area cannot see from outside: which write publishes what on each
// backend (a lease put back, a scheduled job made due), the publishStatus option, and the
// PostgreSQL store's chunking of long ids.
import { Redis } from "ioredis";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";

import { PostgresAdapter, PostgresStatusStore } from "@errand/adapter-postgres";
import { RedisAdapter } from "@errand/adapter-redis";
import { SqsAdapter } from "@errand/adapter-sqs";
import { LocalStatusStore, type StatusStore } from "@errand/core/adapter";
import { waitFor } from "@errand/core/testing";

import { payload, reserve } from "./conformance/harness.js";
import { dropSchemas, postgresUrl, schemaName } from "./support/postgres.js";
import { dropPrefixes, redisPrefix, redisUrl } from "./support/redis.js";

const redis = redisUrl();
const database = postgresUrl();
const prefixes: string[] = [];
const schemas: string[] = [];
afterAll(() => Promise.all([dropPrefixes(redis, prefixes), dropSchemas(database, schemas)]));

function redisAdapter(options: { publishStatus?: boolean } = {}): RedisAdapter {
  const prefix = redisPrefix();
  prefixes.push(prefix);
  return new RedisAdapter({ url: redis, prefix, pollMs: 50, ...options });
}

function postgresAdapter(options: { publishStatus?: boolean } = {}): PostgresAdapter {
  const schema = schemaName();
  schemas.push(schema);
  return new PostgresAdapter({ url: database, schema, poolSize: 2, leaseCheckMs: 20, ...options });
}

/** Every message on the adapter's status channel, parsed, from now on. */
async function statusMessages(adapter: RedisAdapter) {
  const subscriber = new Redis(redis);
  const messages: { state: string; ids: string[] }[] = [];
  subscriber.on("message", (_channel: string, text: string) => messages.push(JSON.parse(text)));
  await subscriber.subscribe(adapter.keys.statusChannel);
  return { messages, close: () => subscriber.disconnect() };
}

describe("status feed: redis adapter", () => {
  it("a job whose lease ran out is published as queued when a reserve puts it back", async () => {
    const adapter = redisAdapter();
    const channel = await statusMessages(adapter);
    try {
      const job = payload();
      await adapter.enqueue({ jobs: [job] });
      expect(await reserve(adapter, { leaseMs: 50 })).toHaveLength(1);
      await waitFor(async () => (await reserve(adapter)).length > 0, { message: "the job back after its lease" });
      await waitFor(() => channel.messages.filter((m) => m.ids.includes(job.id)).length >= 4, { message: "four messages of the job" });
      expect(channel.messages.filter((m) => m.ids.includes(job.id)).map((m) => m.state)).toEqual(["enqueued", "running", "queued", "running"]);
    } finally {
      channel.close();
      await adapter.close();
    }
  });

  it("a scheduled job made due is published as queued", async () => {
    const adapter = redisAdapter();
    const channel = await statusMessages(adapter);
    try {
      const job = payload({ runAt: new Date(Date.now() + 100).toISOString() });
      await adapter.enqueue({ jobs: [job] });
      await waitFor(async () => (await reserve(adapter)).length > 0, { message: "the scheduled job to come due" });
      await waitFor(() => channel.messages.filter((m) => m.ids.includes(job.id)).length >= 3, { message: "three messages of the job" });
      expect(channel.messages.filter((m) => m.ids.includes(job.id)).map((m) => m.state)).toEqual(["enqueued", "queued", "running"]);
    } finally {
      channel.close();
      await adapter.close();
    }
  });

  it("publishStatus: false publishes nothing and has no status feed", async () => {
    const adapter = redisAdapter({ publishStatus: false });
    const channel = await statusMessages(adapter);
    try {
      expect(adapter.capabilities.statusFeed).toBe(false);
      expect(adapter.openStatusFeed).toBeUndefined();
      expect(RedisAdapter.capabilities.statusFeed).toBe(true);
      await adapter.enqueue({ jobs: [payload()] });
      expect(await reserve(adapter)).toHaveLength(1);
      // Published after the adapter's writes, on the same server: once it arrives, theirs would have.
      await adapter.client.publish(adapter.keys.statusChannel, JSON.stringify({ state: "marker", ids: [] }));
      await waitFor(() => channel.messages.length > 0, { message: "the marker" });
      expect(channel.messages.map((m) => m.state)).toEqual(["marker"]);
    } finally {
      channel.close();
      await adapter.close();
    }
  });
});

describe("status feed: postgres adapter", () => {
  it("a lease put back by a reserve's upkeep is reported, though no one reserves the job", async () => {
    const adapter = postgresAdapter();
    const seen: string[] = [];
    const feed = await adapter.openStatusFeed!({ onChange: (ids) => seen.push(...ids), onReconnect: () => undefined });
    try {
      const job = payload();
      await adapter.enqueue({ jobs: [job] });
      expect(await reserve(adapter, { leaseMs: 50 })).toHaveLength(1);
      await waitFor(() => seen.filter((id) => id === job.id).length === 2, { message: "the enqueue and the reserve reported" });
      // Reserves on another queue only run upkeep: the job is reported when its lease is put back.
      await waitFor(
        async () => {
          await reserve(adapter, { queues: ["elsewhere"] });
          return seen.filter((id) => id === job.id).length === 3;
        },
        { message: "the lease put back to be reported" },
      );
      const [status] = await adapter.getStatus({ ids: [job.id] });
      expect(status?.state).toBe("queued");
    } finally {
      await feed.close();
      await adapter.close();
    }
  });

  it("NOTIFYs the status channel only while a feed listens (a bare LISTEN does not count)", async () => {
    const adapter = postgresAdapter();
    const bare = new pg.Client({ connectionString: database });
    await bare.connect();
    const heard: string[] = [];
    bare.on("notification", (message) => heard.push(...JSON.parse(message.payload ?? "[]")));
    await bare.query(`LISTEN "errand:${adapter.schema}:status"`);
    try {
      const unheard = payload();
      await adapter.enqueue({ jobs: [unheard] });
      const feed = await adapter.openStatusFeed!({ onChange: () => undefined, onReconnect: () => undefined });
      const job = payload();
      await adapter.enqueue({ jobs: [job] });
      await waitFor(() => heard.includes(job.id), { message: "the enqueue made with a feed open" });
      // Notifications arrive in commit order: the first enqueue, had it notified, would be here.
      expect(heard).toEqual([job.id]);
      await feed.close();
      const after = payload();
      await adapter.enqueue({ jobs: [after] });
      const marker = payload();
      const again = await adapter.openStatusFeed!({ onChange: () => undefined, onReconnect: () => undefined });
      await adapter.enqueue({ jobs: [marker] });
      await waitFor(() => heard.includes(marker.id), { message: "the marker enqueue" });
      expect(heard).toEqual([job.id, marker.id]);
      await again.close();
    } finally {
      await bare.end();
      await adapter.close();
    }
  });

  it("publishStatus: false has no status feed; a value that is not a boolean is refused", async () => {
    const adapter = postgresAdapter({ publishStatus: false });
    try {
      expect(adapter.capabilities.statusFeed).toBe(false);
      expect(adapter.openStatusFeed).toBeUndefined();
      expect(PostgresAdapter.capabilities.statusFeed).toBe(true);
      // The statements run with no channel: nothing to notify, nothing fails.
      await adapter.enqueue({ jobs: [payload()] });
      expect(await reserve(adapter)).toHaveLength(1);
    } finally {
      await adapter.close();
    }
    expect(() => new PostgresAdapter({ url: database, publishStatus: "yes" as never })).toThrow(/publishStatus/);
  });
});

describe("status feed: postgres status store", () => {
  it("splits ids over notifications under 8,000 bytes; an id too long for one makes the feed read everything again", async () => {
    const schema = schemaName("errand_status_t");
    schemas.push(schema);
    const store = new PostgresStatusStore({ url: database, schema });
    const seen = new Set<string>();
    let rereads = 0;
    const feed = await store.openFeed({ onChange: (ids) => ids.forEach((id) => seen.add(id)), onReconnect: () => rereads++ });
    try {
      // 300 ids of 100 bytes: about 30 KB of JSON, at least four notifications.
      const jobs = Array.from({ length: 300 }, (_, n) => payload({ id: `${String(n).padStart(3, "0")}-${"x".repeat(96)}` }));
      await store.enqueued(jobs);
      await waitFor(() => jobs.every((job) => seen.has(job.id)), { message: "every long id reported" });
      expect(rereads).toBe(0);

      await store.enqueued([payload({ id: "y".repeat(8000) })]);
      await waitFor(() => rereads === 1, { message: "onReconnect for an id too long to notify" });
      expect(seen.has("")).toBe(false);
    } finally {
      await feed.close();
      await store.close();
    }
  });
});

describe("status feed: sqs adapter", () => {
  it("has a feed exactly when its status store has one", async () => {
    const local = new LocalStatusStore();
    // A store of the app's own, without openFeed.
    const plain: StatusStore = {
      shared: false,
      enqueued: (payloads) => local.enqueued(payloads),
      started: (leases) => local.started(leases),
      stale: (leases) => local.stale(leases),
      settled: (items) => local.settled(items),
      progress: (updates) => local.progress(updates),
      get: (ids) => local.get(ids),
      delete: (ids) => local.delete(ids),
      close: () => local.close(),
    };
    const without = new SqsAdapter({ region: "us-east-1", status: plain });
    const withFeed = new SqsAdapter({ region: "us-east-1" });
    try {
      expect(without.capabilities.statusFeed).toBe(false);
      expect(without.openStatusFeed).toBeUndefined();
      expect(withFeed.capabilities.statusFeed).toBe(true);
      expect(typeof withFeed.openStatusFeed).toBe("function");
    } finally {
      await without.close();
      await withFeed.close();
    }
  });
});
