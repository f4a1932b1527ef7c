// A mailer as a Nest provider: its constructor receives GreeterService.
import { Injectable } from "@nestjs/common";
import { Mailer } from "@errand/core";
import { GreeterService } from "./greeter.service.js";

@Injectable()
export class WelcomeMailer extends Mailer {
  static override defaults = { from: "hello@example.com" };

  constructor(private readonly greeter: GreeterService) {
    super();
  }

  welcome(name: string) {
    return { to: `${name.toLowerCase()}@example.com`, subject: this.greeter.greet(name) };
  }
}
