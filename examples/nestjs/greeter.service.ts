// A plain Nest service: what the job and the mailer receive in their constructors.
import { Injectable } from "@nestjs/common";

/** Greets people; a singleton, as Nest services are. */
@Injectable()
export class GreeterService {
  /** How many greetings this process made. */
  count = 0;

  greet(name: string): string {
    this.count += 1;
    return `Welcome, ${name}!`;
  }
}
