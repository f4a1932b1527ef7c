// The example app's module. `AppModule.register({ work })`: the web side enqueues
// (`work: false`), the worker entry runs a worker inside the Nest application context.
// The default export is the module `errand work --nest` boots (the CLI runs the worker):
//   errand work --nest examples/dist/nestjs/app.module.js
import { Module, type DynamicModule, type OnApplicationShutdown, type OnModuleDestroy } from "@nestjs/common";
import { ErrandModule } from "@errand/nestjs";
import type { AdapterSetting } from "@errand/core";
import { GreeterService } from "./greeter.service.js";
import { SignupService } from "./signup.service.js";
import { SlowJob } from "./slow.job.js";
import { WelcomeJob } from "./welcome.job.js";
import { WelcomeMailer } from "./welcome.mailer.js";

/** Reports Nest's shutdown, so a supervisor (and the example's test) sees it happen. */
class ShutdownReporter implements OnModuleDestroy, OnApplicationShutdown {
  onModuleDestroy(): void {
    console.log("nest shutdown started");
  }

  onApplicationShutdown(signal?: string): void {
    console.log(`nest shutdown hooks called (${signal ?? "close"})`);
  }
}

/** The backend: `ERRAND_ADAPTER` holds an adapter setting as JSON (`{"use":"redis","url":…}`); `ERRAND_URL` works too. */
function adapter(): AdapterSetting {
  const setting = process.env.ERRAND_ADAPTER;
  return setting ? (JSON.parse(setting) as AdapterSetting) : "async";
}

@Module({})
export class AppModule {
  static register(options: { work: boolean }): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ErrandModule.forRootAsync({
          useFactory: () => ({
            adapter: adapter(),
            jobs: [WelcomeJob, SlowJob],
            mailers: [WelcomeMailer],
            mail: { transport: "test" },
            work: options.work ? { concurrency: 2, shutdownGrace: "20s" } : false,
          }),
        }),
      ],
      providers: [GreeterService, SignupService, WelcomeJob, SlowJob, WelcomeMailer, ShutdownReporter],
      exports: [SignupService],
    };
  }
}

/** The module for `errand work --nest examples/dist/nestjs/app.module.js`: the CLI runs the worker, so the module asks for none. */
export default AppModule.register({ work: false });
