/**
 * Samples each server's CPU (INFO cpu: used_cpu_sys + used_cpu_user) every `everyMs` during a
 * drain, to tell whether the servers worked at the same time or one after another: totals
 * over the whole drain cannot, since every queue is drained in the end either way.
 *
 * States: started (a loop reads all servers, waits, reads again …) → stopped (the loop ends
 * after its current read; the connections close).
 */
import type { Redis } from "ioredis";

import { connectTo, fields, type Server } from "./servers.js";

/** CPU samples of a set of servers, on connections of its own. */
export class CpuSampler {
  private readonly samples: number[][] = [];
  private running = true;
  private loop: Promise<void> = Promise.resolve();

  private constructor(
    private readonly clients: Redis[],
    private readonly everyMs: number,
  ) {}

  /** Connects to every server and starts sampling. */
  static async start(servers: readonly Server[], everyMs: number): Promise<CpuSampler> {
    const clients = servers.map(connectTo);
    await Promise.all(clients.map((c) => c.connect()));
    const sampler = new CpuSampler(clients, everyMs);
    sampler.samples.push(await sampler.read());
    sampler.loop = sampler.run();
    return sampler;
  }

  private async read(): Promise<number[]> {
    return Promise.all(
      this.clients.map(async (c) => {
        const cpu = fields(await c.info("cpu"));
        return Number(cpu.used_cpu_sys) + Number(cpu.used_cpu_user);
      }),
    );
  }

  private async run(): Promise<void> {
    while (this.running) {
      // The sampling period itself, not a wait for anything.
      await new Promise((resolve) => setTimeout(resolve, this.everyMs));
      this.samples.push(await this.read());
    }
  }

  /**
   * Stops (after one last sample) and returns the busiest server's share of the servers' CPU
   * per interval, averaged with each interval weighted by its CPU.
   */
  async stop(): Promise<number> {
    this.running = false;
    await this.loop;
    this.samples.push(await this.read());
    for (const c of this.clients) c.disconnect();
    let busiest = 0;
    let total = 0;
    for (let i = 1; i < this.samples.length; i++) {
      const used = this.samples[i]!.map((cpu, node) => cpu - this.samples[i - 1]![node]!);
      busiest += Math.max(...used);
      total += used.reduce((sum, u) => sum + u, 0);
    }
    return total > 0 ? busiest / total : 1;
  }
}
