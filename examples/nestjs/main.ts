// The app side: a Nest application context that signs people up (enqueues WelcomeJob).
// Usage: node examples/dist/nestjs/main.js Ada Grace
import "reflect-metadata";
import { NestFactory } from "@nestjs/core";
import { AppModule } from "./app.module.js";
import { SignupService } from "./signup.service.js";

const app = await NestFactory.createApplicationContext(AppModule.register({ work: false }), { logger: ["error", "warn"] });
const signups = app.get(SignupService);
for (const name of process.argv.slice(2)) {
  const { jobId } = await signups.signUp(name);
  console.log(`enqueued WelcomeJob ${jobId} for ${name}`);
}
await app.close();
