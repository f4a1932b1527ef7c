// Where the app enqueues: an ordinary service.
import { Injectable } from "@nestjs/common";
import type { EnqueuedJob } from "@errand/core";
import { WelcomeJob } from "./welcome.job.js";

@Injectable()
export class SignupService {
  /** Signs a person up; the welcome runs in a worker. */
  signUp(name: string): Promise<EnqueuedJob> {
    return WelcomeJob.performLater(name);
  }
}
