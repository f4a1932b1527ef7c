// A job that runs until a file appears: the shutdown test sends SIGTERM while it runs and
// checks that the worker lets it finish.
import { access } from "node:fs/promises";
import { Injectable, Scope } from "@nestjs/common";
import { Job } from "@errand/core";
import { GreeterService } from "./greeter.service.js";

@Injectable({ scope: Scope.TRANSIENT })
export class SlowJob extends Job<[releaseFile: string], string> {
  constructor(private readonly greeter: GreeterService) {
    super(Job.injected);
  }

  async perform(releaseFile: string): Promise<string> {
    for (;;) {
      try {
        await access(releaseFile);
        console.log("slow job finished");
        return this.greeter.greet("patient worker");
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
}
