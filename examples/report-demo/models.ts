/**
 * The app's "database": users in a Map. Registering the model with its finders makes a
 * `User` travel in a job as a reference (`gid://report-demo/User/1`) and be loaded again,
 * fresh, just before `perform` — one `findMany` for all the users of a job.
 */
import { registerModel } from "@errand/core";

export class User {
  constructor(
    readonly id: number,
    readonly name: string,
    readonly email: string,
  ) {}
}

export const db = {
  users: new Map<number, User>([
    [1, new User(1, "Ada Lovelace", "ada@example.com")],
    [2, new User(2, "Grace Hopper", "grace@example.com")],
  ]),
};

registerModel(User, {
  find: (id: number) => db.users.get(id),
  findMany: (ids: number[]) => ids.flatMap((id) => db.users.get(id) ?? []),
});
