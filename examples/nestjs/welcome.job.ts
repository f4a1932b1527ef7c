// A job as a Nest provider. Transient: each run gets its own instance (a job holds one
// run's state), its services injected by Nest; `super(Job.injected)` because Errand, not
// the constructor, sets the job's arguments.
import { Injectable, Scope } from "@nestjs/common";
import { Job } from "@errand/core";
import { GreeterService } from "./greeter.service.js";
import { WelcomeMailer } from "./welcome.mailer.js";

@Injectable({ scope: Scope.TRANSIENT })
export class WelcomeJob extends Job<[name: string], string> {
  constructor(private readonly greeter: GreeterService) {
    super(Job.injected);
  }

  async perform(name: string): Promise<string> {
    await WelcomeMailer.mail("welcome", name).deliverNow();
    return `${this.greeter.greet(name)} (greeting #${this.greeter.count} of worker ${process.pid})`;
  }
}
