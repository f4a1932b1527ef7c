// The runnable example of packages/core/README.md's Mail section (kept identical by test/readme.test.ts).
import { configure, defineMailer, MailDeliveryJob, Mailer, type AfterDeliver, type MailerDefaults } from "@errand/core";
import { waitFor } from "@errand/core/testing";

const UserMailer = defineMailer(
  class UserMailer extends Mailer {
    static override defaults: MailerDefaults = { from: "hello@shop.test" };
    static override afterDeliver: AfterDeliver = (mail) => console.log(`${mail.from} -> ${String(mail.to)}: ${mail.subject}`);

    welcome(user: { email: string; name: string }) {
      return { to: user.email, subject: "Welcome", text: `Hi ${user.name}` };
    }
  },
);

// nodemailer's JSON transport builds the message and sends it nowhere; in production: "smtp://…".
const runtime = configure({ adapter: "async", mailers: [UserMailer], mail: { transport: { jsonTransport: true } } });
const { jobId } = await UserMailer.welcome({ email: "ada@example.com", name: "Ada" }).deliverLater();
await waitFor(async () => (await MailDeliveryJob.status(jobId))?.state === "succeeded");
// printed by afterDeliver: hello@shop.test -> ada@example.com: Welcome
await runtime.close();
