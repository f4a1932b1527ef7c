// Compile-time checks of batch()'s callbacks (run by `npm run typecheck:tests`): each is
// `[JobClass, args]` with the args checked against the class's perform; each line marked
// as an expected error below must be one, or tsc fails on the unused directive.
import { batch } from "../src/batch/batch.js";
import { Job } from "../src/job/job.js";

class User {
  constructor(readonly id: number) {}
}
class ImportRowsJob extends Job<[file: string, chunk: number]> { async perform(_file: string, _chunk: number) {} }
class NotifyJob extends Job<[user: User]> { async perform(_user: User) {} }
class PingJob extends Job { async perform() {} }

const user = new User(1);
void batch([new ImportRowsJob("users.csv", 0), new ImportRowsJob("users.csv", 1)], { onSuccess: [NotifyJob, [user]] });
void batch([], { onComplete: [PingJob, []], onFailure: [NotifyJob, [user]], description: "nothing" });
void batch([new PingJob()]);
// @ts-expect-error args of the wrong type
void batch([], { onSuccess: [NotifyJob, ["someone"]] });
// @ts-expect-error args missing
void batch([], { onComplete: [NotifyJob, []] });
// @ts-expect-error not a job class
void batch([], { onFailure: [User, [1]] });
// @ts-expect-error an unknown option
void batch([], { onSucess: [NotifyJob, [user]] });
// @ts-expect-error the batch's jobs are instances, not classes
void batch([ImportRowsJob]);
