// The worker side: the same module inside a Nest application context, with a worker.
// SIGTERM (or SIGINT) closes the app: Errand's worker stops fetching, running jobs get
// their grace period, Nest's shutdown hooks run.
import "reflect-metadata";
import { NestFactory } from "@nestjs/core";
import { AppModule } from "./app.module.js";

const app = await NestFactory.createApplicationContext(AppModule.register({ work: true }), { logger: ["error", "warn"] });
app.enableShutdownHooks(["SIGTERM", "SIGINT"]);
console.log(`nest worker ${process.pid} ready`);
