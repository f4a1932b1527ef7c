/**
 * Calls between the bench's parent and its long-lived children (server, worker, clients):
 * the parent sends `{ id, type, payload }` over the fork's IPC channel, the child answers
 * `{ id, result }` or `{ id, error }`. Unlike `../lib/child.ts` (one measurement, one
 * answer, exit), these children stay up for a whole scenario and are driven step by step.
 */
import { fork, type ChildProcess } from "node:child_process";

interface Call {
  id: number;
  type: string;
  payload: unknown;
}
interface Answer {
  id: number;
  result?: unknown;
  error?: string;
}
/** A child's unsolicited note to the parent (ready, its port). */
interface Note {
  note: string;
  value: unknown;
}

/** A forked child the parent calls. */
export class Peer {
  private readonly proc: ChildProcess;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(value: unknown): void; reject(error: Error): void; type: string }>();
  private readonly notes = new Map<string, { resolve(value: unknown): void; promise: Promise<unknown> }>();
  private exited: Error | undefined;

  /**
   * Forks `script` with `args` under `node --expose-gc` (plus `execArgv`). `name` labels
   * its errors ("server", "client 2").
   */
  constructor(
    readonly name: string,
    script: string,
    args: string[],
    execArgv: string[] = [],
  ) {
    this.proc = fork(script, args, { execArgv: ["--expose-gc", ...execArgv], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.proc.on("message", (message: Answer | Note) => {
      if ("note" in message) {
        this.noteEntry(message.note).resolve(message.value);
        return;
      }
      const pending = this.waiting.get(message.id);
      if (!pending) return;
      this.waiting.delete(message.id);
      if (message.error !== undefined) pending.reject(new Error(`${this.name} ${pending.type}: ${message.error}`));
      else pending.resolve(message.result);
    });
    this.proc.on("exit", (code, signal) => {
      this.exited = new Error(`${this.name} exited with ${signal ?? code}`);
      for (const pending of this.waiting.values()) pending.reject(this.exited);
      this.waiting.clear();
    });
  }

  /** The child's process id. */
  get pid(): number | undefined {
    return this.proc.pid;
  }

  /** Calls `type` in the child; resolves with its answer. */
  call<T>(type: string, payload: unknown = null): Promise<T> {
    if (this.exited) return Promise.reject(this.exited);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.waiting.set(id, { resolve: resolve as (value: unknown) => void, reject, type });
      this.proc.send({ id, type, payload } satisfies Call);
    });
  }

  /** Resolves with the value of the child's note `name` (sent once, e.g. "ready"). */
  note<T>(name: string): Promise<T> {
    return this.noteEntry(name).promise as Promise<T>;
  }

  private noteEntry(name: string): { resolve(value: unknown): void; promise: Promise<unknown> } {
    let entry = this.notes.get(name);
    if (!entry) {
      let resolve!: (value: unknown) => void;
      const promise = new Promise<unknown>((r) => (resolve = r));
      entry = { resolve, promise };
      this.notes.set(name, entry);
    }
    return entry;
  }

  /** Closes the IPC channel: a child started with `serve` exits then. */
  disconnect(): void {
    if (this.proc.connected) this.proc.disconnect();
  }

  /** Resolves when the child has exited (killing it with SIGKILL after `graceMs`). */
  async exit(graceMs = 10_000): Promise<void> {
    if (this.exited || this.proc.exitCode !== null) return;
    const gone = new Promise<void>((resolve) => this.proc.once("exit", () => resolve()));
    const timer = setTimeout(() => this.proc.kill("SIGKILL"), graceMs);
    await gone;
    clearTimeout(timer);
  }
}

/** In a child: a handler per call type. */
export type Handlers = Record<string, (payload: never) => unknown>;

/**
 * In a child: answers the parent's calls with `handlers`; an unknown type or a thrown
 * error goes back as the call's error. The child exits when the parent goes away.
 */
export function serve(handlers: Handlers): void {
  if (!process.send) throw new Error("this script is a child of bench/dist/realtime/run.js; run that instead");
  process.on("message", (message: Call) => {
    const handler = handlers[message.type];
    const answer = (body: Omit<Answer, "id">) => process.send!({ id: message.id, ...body });
    if (!handler) {
      answer({ error: `unknown call ${JSON.stringify(message.type)} (known: ${Object.keys(handlers).join(", ")})` });
      return;
    }
    Promise.resolve()
      .then(() => handler(message.payload as never))
      .then(
        (result) => answer({ result: result ?? null }),
        (error: unknown) => answer({ error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
      );
  });
  process.on("disconnect", () => process.exit(0));
}

/** In a child: tells the parent `name` (the parent awaits it with `peer.note(name)`). */
export function note(name: string, value: unknown = null): void {
  process.send!({ note: name, value } satisfies Note);
}

/** The wall clock in ms with sub-ms resolution, comparable across processes of one machine. */
export function wallNow(): number {
  return performance.timeOrigin + performance.now();
}
