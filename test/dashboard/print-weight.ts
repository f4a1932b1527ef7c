// `npm run dashboard:weight`: prints the overview's weight (HTML, CSS, JS; raw and gzipped)
// with jobs seeded on the async adapter.
import { AsyncAdapter } from "@errand/adapter-async";
import { dashboard } from "@errand/dashboard";

import { releaseAll, seed, startApp } from "./seed.js";
import { formatWeight, overviewWeight } from "./weight.js";

const { runtime } = await startApp(new AsyncAdapter());
await seed(runtime);
console.log(formatWeight(await overviewWeight(dashboard({ basePath: "/errand", authorize: () => true }))));
releaseAll();
await runtime.close();
