// Mailers end to end: mails delivered through a real SMTP server (the `smtp-server` package,
// started here on a free loopback port) by a real Worker working the test adapter, so the
// recorded payloads can be read too. This is where the transport's error sorting meets a
// server's actual replies (4xx retried, 5xx discarded), which the in-memory "test"
// transport cannot show. mailparser is not installed, so messages are read from their raw
// RFC 822 text with the small MIME reader below.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SMTPServer, type SMTPServerAddress } from "smtp-server";

import { configure, deadSet, defineMailer, isFinished, Mailer, MailDeliveryJob, registerModel, Worker, type AfterDeliver, type BeforeDeliver, type JobStatus, type Runtime } from "@errand/core";
import { assertMailEnqueued, enqueuedJobs, waitFor } from "@errand/core/testing";

import { freePort } from "./support/ports.js";

// ---------------------------------------------------------------------------------------
// The app: a model and a mailer, in ActionMailer's form (`UserMailer.welcome(user)`); some
// tests send with `UserMailer.mail("welcome", user)`, which must deliver the same.

class User {
  constructor(
    readonly id: number,
    readonly email: string,
    readonly name: string,
  ) {}
}
/** The "database": records are replaced, never mutated, so a mail can only show a change by loading it again. */
const users = new Map<number, User>();
registerModel(User, {
  find: (id) => users.get(id as number),
  findMany: (ids) => ids.map((id) => users.get(id as number)).filter((user): user is User => user !== undefined),
});

/** Message ids the afterDeliver callback saw, per test. */
const afterDelivered: { messageId: string | undefined; to: unknown }[] = [];

const UserMailer = defineMailer(
  class UserMailer extends Mailer {
    static override defaults = { from: "hello@shop.test" };
    static override beforeDeliver: BeforeDeliver[] = [
      (mail, context) => {
        mail.headers = { ...mail.headers, "X-Errand-Mail": `${context.mailer}.${context.method}` };
      },
    ];
    static override afterDeliver: AfterDeliver[] = [
      (mail, sent) => {
        afterDelivered.push({ messageId: sent.messageId, to: mail.to });
      },
    ];

    welcome(user: User) {
      return {
        to: user.email,
        subject: "Welcome",
        text: `Hi ${user.name}`,
        attachments: [{ filename: "terms.txt", content: `Terms for ${user.name}` }],
      };
    }
  },
);

// ---------------------------------------------------------------------------------------
// The SMTP server, and a reader for what it received.

interface Received {
  mailFrom: string | undefined;
  rcptTo: string[];
  raw: string;
}

/** Messages the server accepted, in order. */
const received: Received[] = [];
/** How the server answers; reset before each test. */
const server = {
  /** RCPT TO replies still to refuse with a 450 (greylisting), whatever the address. */
  greylistRcpts: 0,
  /** Recipients refused with a 550. */
  unknownMailboxes: new Set<string>(),
  /** Replies refused so far. */
  refusals: [] as string[],
};

let smtp: SMTPServer;
let smtpUrl: string;

function replyError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

beforeAll(async () => {
  const port = await freePort();
  smtp = new SMTPServer({
    logger: false,
    authOptional: true,
    // Plain SMTP on loopback: no STARTTLS to upgrade to with the built-in self-signed certificate.
    disabledCommands: ["STARTTLS", "AUTH"],
    onRcptTo(address: SMTPServerAddress, _session, callback) {
      if (server.greylistRcpts > 0) {
        server.greylistRcpts--;
        server.refusals.push(`450 ${address.address}`);
        return callback(replyError(450, "4.2.0 greylisted, try again later"));
      }
      if (server.unknownMailboxes.has(address.address)) {
        server.refusals.push(`550 ${address.address}`);
        return callback(replyError(550, "5.1.1 no such mailbox"));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        // Recorded before the 250 goes back, so a delivery that resolved has been received.
        received.push({
          mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          rcptTo: session.envelope.rcptTo.map((rcpt) => rcpt.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    smtp.server.once("error", reject);
    smtp.listen(port, "127.0.0.1", () => resolve());
  });
  smtpUrl = `smtp://127.0.0.1:${port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => smtp.close(() => resolve()));
});

/** One MIME entity: unfolded headers (lower-case names) and its decoded body. */
interface Part {
  headers: Map<string, string>;
  body: string;
}

function parseEntity(raw: string): Part {
  const split = raw.indexOf("\r\n\r\n");
  const head = split === -1 ? raw : raw.slice(0, split);
  const rest = split === -1 ? "" : raw.slice(split + 4);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\r\n[ \t]+/g, " ").split("\r\n")) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const encoding = (headers.get("content-transfer-encoding") ?? "7bit").toLowerCase();
  const body =
    encoding === "base64"
      ? Buffer.from(rest.replace(/\s+/g, ""), "base64").toString("utf8")
      : encoding === "quoted-printable"
        ? Buffer.from(rest.replace(/=\r\n/g, "").replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), "latin1").toString("utf8")
        : rest;
  return { headers, body };
}

/** The message's headers, and its leaf parts (one for a single-part message). */
function parseMessage(raw: string): { headers: Map<string, string>; parts: Part[] } {
  const top = parseEntity(raw);
  const leaves = (entity: Part, source: string): Part[] => {
    const boundary = /boundary="?([^";]+)"?/i.exec(entity.headers.get("content-type") ?? "")?.[1];
    if (!/^multipart\//i.test(entity.headers.get("content-type") ?? "") || !boundary) return [entity];
    const body = source.slice(source.indexOf("\r\n\r\n") + 4);
    const sections = body.split(`--${boundary}`).slice(1, -1);
    return sections.flatMap((section) => {
      const text = section.replace(/^\r\n/, "").replace(/\r\n$/, "");
      return leaves(parseEntity(text), text);
    });
  };
  return { headers: top.headers, parts: leaves(top, raw) };
}

function textPart(message: { parts: Part[] }): string | undefined {
  return message.parts.find((part) => /^text\/plain/i.test(part.headers.get("content-type") ?? "") && !/attachment/i.test(part.headers.get("content-disposition") ?? ""))?.body;
}

function attachments(message: { parts: Part[] }): { filename: string | undefined; content: string }[] {
  return message.parts
    .filter((part) => /^attachment/i.test(part.headers.get("content-disposition") ?? ""))
    .map((part) => ({ filename: /filename="?([^";]+)"?/i.exec(part.headers.get("content-disposition") ?? "")?.[1], content: part.body }));
}

// ---------------------------------------------------------------------------------------
// A runtime per test: the test adapter (payloads recorded), mail through the SMTP server,
// and a Worker started when the test says so.

let runtime: Runtime | undefined;

beforeEach(() => {
  received.length = 0;
  afterDelivered.length = 0;
  server.greylistRcpts = 0;
  server.unknownMailboxes.clear();
  server.refusals.length = 0;
  users.clear();
  runtime = configure({
    app: "shop",
    environment: "test",
    adapter: "test",
    mailers: [UserMailer],
    mail: { transport: smtpUrl },
    retry: { wait: 10, jitter: 0 },
    worker: { embedded: false },
  });
});

afterEach(async () => {
  await runtime?.close({ graceMs: 1000 });
  runtime = undefined;
});

async function startWorker(): Promise<Worker> {
  const worker = new Worker({ runtime: runtime!, concurrency: 1, pollInterval: 10, keepAlive: false });
  await worker.start();
  return worker;
}

/** The job's status once it is in `state`; fails as soon as it ends in another state. */
async function statusWhen(jobId: string, state: JobStatus["state"]): Promise<JobStatus> {
  const status = await waitFor(
    async () => {
      const found = await MailDeliveryJob.status(jobId);
      return (found?.state === state || (found && isFinished(found.state))) && found;
    },
    { timeoutMs: 5000, message: `mail job ${jobId} to be ${state}` },
  );
  expect(status.state, `mail job ended ${status.state}: ${JSON.stringify(status.error)}`).toBe(state);
  return status;
}

describe("mailers through a real SMTP server", () => {
  it("deliverLater enqueues mailer, method and the model by reference; the worker delivers the mail", async () => {
    const ada = new User(1, "ada@example.test", "Ada");
    users.set(1, ada);

    const { jobId } = await UserMailer.welcome(ada).deliverLater();

    // The payload: names and a gid, never the rendered mail.
    const [payload] = await assertMailEnqueued({ mailer: UserMailer, method: "welcome", args: [ada], queue: "mailers", count: 1 });
    expect(payload!.id).toBe(jobId);
    expect(payload!.job).toBe("Errand.MailDelivery");
    expect(payload!.queue).toBe("mailers");
    expect(payload!.args.json).toEqual(["UserMailer", "welcome", ["gid://shop/User/1"]]);
    const stored = JSON.stringify(payload);
    for (const rendered of ["Welcome", "Hi Ada", "ada@example.test", "hello@shop.test", "terms.txt", "Terms for"]) {
      expect(stored).not.toContain(rendered);
    }
    expect(received).toHaveLength(0);

    await startWorker();
    const status = await statusWhen(jobId, "succeeded");
    expect(status.executions).toBe(1);

    expect(received).toHaveLength(1);
    const [mail] = received;
    expect(mail!.mailFrom).toBe("hello@shop.test");
    expect(mail!.rcptTo).toEqual(["ada@example.test"]);
    const message = parseMessage(mail!.raw);
    expect(message.headers.get("from")).toBe("hello@shop.test");
    expect(message.headers.get("to")).toBe("ada@example.test");
    expect(message.headers.get("subject")).toBe("Welcome");
    expect(message.headers.get("content-type")).toMatch(/^multipart\/mixed/);
    expect(textPart(message)).toBe("Hi Ada");
    expect(attachments(message)).toEqual([{ filename: "terms.txt", content: "Terms for Ada" }]);
    // The job's result is the message id the server's mail carries.
    expect(status.result).toBe(message.headers.get("message-id"));
  });

  it("builds the mail at perform time, from the record as it is then", async () => {
    users.set(1, new User(1, "ada@example.test", "Ada"));
    const { jobId } = await UserMailer.welcome(users.get(1)!).deliverLater();

    // The record changes between enqueue and perform.
    users.set(1, new User(1, "countess@example.test", "Countess Lovelace"));
    await startWorker();
    await statusWhen(jobId, "succeeded");

    expect(received).toHaveLength(1);
    expect(received[0]!.rcptTo).toEqual(["countess@example.test"]);
    const message = parseMessage(received[0]!.raw);
    expect(message.headers.get("to")).toBe("countess@example.test");
    expect(textPart(message)).toBe("Hi Countess Lovelace");
    expect(attachments(message)).toEqual([{ filename: "terms.txt", content: "Terms for Countess Lovelace" }]);
  });

  it("deliverLater({ wait }) stores the mail job scheduled for later; nothing is sent meanwhile", async () => {
    users.set(1, new User(1, "ada@example.test", "Ada"));
    const before = Date.now();
    const { jobId } = await UserMailer.welcome(users.get(1)!).deliverLater({ wait: "1h" });
    const [payload] = await assertMailEnqueued({ mailer: UserMailer, method: "welcome", args: [users.get(1)], queue: "mailers", count: 1 });
    expect(Date.parse(payload!.runAt)).toBeGreaterThanOrEqual(before + 3_600_000);
    expect((await MailDeliveryJob.status(jobId))?.state).toBe("scheduled");
    expect(received).toHaveLength(0);
  });

  it("a 4xx from the server is temporary: the job is retried and the mail arrives once", async () => {
    users.set(1, new User(1, "ada@example.test", "Ada"));
    server.greylistRcpts = 1;
    const { jobId } = await UserMailer.mail("welcome", users.get(1)!).deliverLater();

    await startWorker();
    const status = await statusWhen(jobId, "succeeded");

    expect(server.refusals).toEqual(["450 ada@example.test"]);
    expect(status.executions).toBe(2);
    expect(status.error).toMatchObject({ name: "MailDeliveryError", code: "ERR_MAIL_DELIVERY" });
    expect(status.error!.message).toMatch(/UserMailer\.welcome: .*450 4\.2\.0 greylisted/);
    expect(received).toHaveLength(1);
    expect(received[0]!.rcptTo).toEqual(["ada@example.test"]);
    expect(afterDelivered).toHaveLength(1);
  });

  it("a 5xx for the recipient is permanent: the job fails after one attempt and nothing is delivered", async () => {
    users.set(2, new User(2, "nobody@example.test", "Nobody"));
    server.unknownMailboxes.add("nobody@example.test");
    const { jobId } = await UserMailer.mail("welcome", users.get(2)!).deliverLater();

    const worker = await startWorker();
    const status = await statusWhen(jobId, "failed");

    expect(status.executions).toBe(1);
    expect(status.error).toMatchObject({ name: "UndeliverableMailError", code: "ERR_MAIL_UNDELIVERABLE" });
    expect(status.error!.message).toMatch(/UserMailer\.welcome: .*550 5\.1\.1 no such mailbox/);
    expect(server.refusals).toEqual(["550 nobody@example.test"]);
    expect(received).toHaveLength(0);
    expect(afterDelivered).toHaveLength(0);
    // Discarded, not dead, and nothing left to run.
    expect(await deadSet().list()).toEqual([]);
    await worker.drained();
    expect(await enqueuedJobs()).toHaveLength(1);
  });

  it("deliverNow sends at once through the same server, with the mailer's callbacks", async () => {
    const grace = new User(3, "grace@example.test", "Grace");
    users.set(3, grace);

    const sent = await UserMailer.welcome(grace).deliverNow();

    // Already received when deliverNow resolves; nothing was enqueued.
    expect(received).toHaveLength(1);
    expect(await enqueuedJobs()).toEqual([]);
    const message = parseMessage(received[0]!.raw);
    expect(received[0]!.rcptTo).toEqual(["grace@example.test"]);
    expect(message.headers.get("subject")).toBe("Welcome");
    expect(textPart(message)).toBe("Hi Grace");
    // beforeDeliver changed the mail; afterDeliver saw the id the server got.
    expect(message.headers.get("x-errand-mail")).toBe("UserMailer.welcome");
    expect(sent.mail.headers).toEqual({ "X-Errand-Mail": "UserMailer.welcome" });
    expect(sent.messageId).toMatch(/^<.+@.+>$/);
    expect(message.headers.get("message-id")).toBe(sent.messageId);
    expect(afterDelivered).toEqual([{ messageId: sent.messageId, to: "grace@example.test" }]);
  });

  it("a stored mail job naming an unknown mailer method goes to the dead set with the reason", async () => {
    const { jobId } = await MailDeliveryJob.performLater("UserMailer", "nope", []);

    await startWorker();
    const status = await statusWhen(jobId, "dead");

    expect(status.executions).toBe(1);
    const dead = await deadSet().list();
    expect(dead).toHaveLength(1);
    expect(dead[0]!.id).toBe(jobId);
    expect(dead[0]!.error.name).toBe("UnknownMailerError");
    expect(dead[0]!.error.message).toBe('mailer "UserMailer" has no mail method "nope"');
    expect(received).toHaveLength(0);
  });
});
