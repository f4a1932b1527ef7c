/**
 * The SQS emulator of a soak run in a process of its own, so that its memory is a figure
 * of its own (the queues' storage) and its event loop competes with no sampler:
 * starts fauxqs on a free loopback port, logger off, notes `ready` with its address, and
 * stops when the parent disconnects.
 *
 *   node bench/dist/soak/fauxqs.js     (started by run.ts for `--backend sqs`)
 */
import { note, serve } from "../realtime/ipc.js";

const { startFauxqs } = await import("fauxqs");
const server = await startFauxqs({ port: 0, host: "127.0.0.1", logger: false });
serve({
  stop: async () => {
    await server.stop();
    setImmediate(() => process.exit(0));
  },
});
note("ready", server.address);
