// One test file's PostgreSQL adapters, each on a fresh schema, every schema dropped after the file.
import { afterAll } from "vitest";

import { PostgresAdapter } from "@errand/adapter-postgres";

import { dropSchemas, postgresUrl, schemaName } from "./postgres.js";

type AdapterOptions = Partial<ConstructorParameters<typeof PostgresAdapter>[0]>;

/** Makes adapters on fresh schemas (pool of 4 unless told); `.schema()` names a fresh schema only. */
export interface FreshPostgresAdapters {
  (options?: AdapterOptions): PostgresAdapter;
  schema(): string;
}

/** The maker of one test file's adapters; registers the schemas' cleanup with `afterAll`. */
export function freshPostgresAdapters(): FreshPostgresAdapters {
  const url = postgresUrl();
  const schemas: string[] = [];
  afterAll(() => dropSchemas(url, schemas));
  const schema = () => {
    const name = schemaName();
    schemas.push(name);
    return name;
  };
  return Object.assign((options: AdapterOptions = {}) => new PostgresAdapter({ url, schema: schema(), poolSize: 4, ...options }), { schema });
}
