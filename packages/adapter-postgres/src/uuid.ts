/**
 * Job ids as PostgreSQL's `uuid` type takes and prints them.
 *
 * @module
 */

/** Text the `uuid` type accepts as we send ids (hyphenated, either case). */
const ANY_CASE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Text exactly as PostgreSQL prints a `uuid` (hyphenated, lowercase). */
const CANONICAL = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Whether `id` can be looked up as a uuid (anything else matches no row). */
export const isUuid = (id: string): boolean => ANY_CASE.test(id);

/** Whether `id` is spelled as PostgreSQL prints it back. */
export const isCanonicalUuid = (id: string): boolean => CANONICAL.test(id);
