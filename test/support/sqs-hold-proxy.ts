// An HTTP proxy in front of the test SQS endpoint that forwards every call but holds the
// calls of one action (by its `X-Amz-Target`, e.g. `AmazonSQS.SendMessageBatch`): they are
// never forwarded nor answered. A process pointed at it stops, for real, inside that call —
// a moment the test can observe (`held`) before it kills the process. The SDK sets no request
// timeout by default, so the held call waits as long as the process lives.
import { createServer, request, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** A call the proxy holds: its action and its JSON body. */
export interface HeldCall {
  target: string;
  body: unknown;
}

/** A running proxy. */
export interface HoldProxy {
  /** The endpoint to give the process instead of the real one. */
  endpoint: string;
  /** The calls held so far, in arrival order. */
  held: HeldCall[];
  /** Stops the proxy and drops every connection (held calls included). */
  close(): Promise<void>;
}

function readBody(message: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    message.on("data", (chunk: Buffer) => chunks.push(chunk));
    message.on("end", () => resolve(Buffer.concat(chunks)));
    message.on("error", reject);
  });
}

/** Starts a proxy on a free loopback port to `endpoint`, holding the calls whose target is `holdTarget`. */
export async function startHoldProxy(endpoint: string, holdTarget: string): Promise<HoldProxy> {
  const upstream = new URL(endpoint);
  const held: HeldCall[] = [];
  const server: Server = createServer((incoming, outgoing) => {
    void readBody(incoming).then((body) => {
      const target = String(incoming.headers["x-amz-target"] ?? "");
      if (target === holdTarget) {
        held.push({ target, body: JSON.parse(body.toString("utf8")) as unknown });
        return;
      }
      const forward = request(
        { host: upstream.hostname, port: upstream.port, method: incoming.method, path: incoming.url, headers: { ...incoming.headers, host: upstream.host } },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forward.on("error", () => outgoing.destroy());
      forward.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    held,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
