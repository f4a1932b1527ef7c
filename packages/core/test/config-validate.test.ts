// The option validator's edges (issue 11 review): secrets stay out of messages whatever
// shape they come in, keys inherited from Object.prototype are unknown keys like any other,
// and an adapter setting is told apart from a per-environment map of settings.
import { describe, expect, it } from "vitest";

import { validateConfig } from "../src/config/schema.js";
import { rules, validateOptions } from "../src/config/validate.js";
import { ConfigError } from "../src/errors.js";

/** The ConfigError message `action` throws (fails the test when it throws nothing, or something else). */
function configMessage(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).message;
  }
  return expect.unreachable("expected a ConfigError, nothing was thrown");
}

const CREDENTIALS_SCHEMA = { password: rules.string, credentials: rules.object(), url: rules.nonEmptyString };

describe("secrets in messages", () => {
  it("hides the value under a key that names a secret, telling only its kind", () => {
    const password = configMessage(() => validateOptions({ password: ["hunter2"] }, CREDENTIALS_SCHEMA, "the options"));
    expect(password).toBe('option "password" in the options must be a string, got an array (hidden: the key names a secret)');
    const credentials = configMessage(() => validateOptions({ credentials: "AKIAEXAMPLE:wJalrXUtnFEMI" }, CREDENTIALS_SCHEMA, "the options"));
    expect(credentials).not.toContain("AKIA");
    expect(credentials).not.toContain("wJalr");
    expect(credentials).toContain("got a string (hidden: the key names a secret)");
  });

  it("hides a value whose path names a secret further up (mail.transport.auth)", () => {
    const message = configMessage(() =>
      validateOptions({ auth: { tokens: ["s3cret", 5] } }, { auth: rules.object({ tokens: rules.arrayOf(rules.string) }) }, "the options"),
    );
    expect(message).toBe('option "auth.tokens[1]" in the options must be a string, got a number (hidden: the key names a secret)');
  });

  it.each([
    ["an @ in the password", "postgres://user:p@ss@db.example.com/app", "postgres://user:***@db.example.com/app"],
    ["an @ in the user name", "redis://ops@corp:pw@cache:6379", "redis://ops@corp:***@cache:6379"],
    ["an @ in the query, after the authority", "postgres://u:pw@host/db?notify=a@b.c", "postgres://u:***@host/db?notify=a@b.c"],
  ])("hides a URL's whole password: %s", (_label, url, shown) => {
    const message = configMessage(() => validateOptions({ url: [url] }, CREDENTIALS_SCHEMA, "the options"));
    expect(message).toContain(shown);
  });
});

describe("keys Object.prototype has", () => {
  it.each(["toString", "constructor", "hasOwnProperty", "valueOf"])("%s is an unknown option, not a TypeError", (key) => {
    expect(configMessage(() => validateConfig({ worker: { [key]: 1 } }))).toMatch(new RegExp(`^unknown option "worker.${key}" in the Errand config; `));
  });

  it("a __proto__ key from a JSON file is an unknown option, and changes no prototype", () => {
    const config: unknown = JSON.parse('{ "__proto__": { "polluted": true }, "app": "shop" }');
    expect(configMessage(() => validateConfig(config))).toMatch(/^unknown option "__proto__" in the Errand config; /);
    expect(configMessage(() => validateConfig({ retry: JSON.parse('{ "__proto__": 1 }') as unknown }))).toMatch(/^unknown option "retry.__proto__"/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe("adapter settings", () => {
  it("an object with use is a setting: a bad use is reported as adapter.use", () => {
    expect(configMessage(() => validateConfig({ adapter: { use: 5 } }))).toBe(
      'option "adapter.use" in the Errand config must be an adapter kind ("redis", "postgres", …) or the package name of an adapter, got 5',
    );
    expect(configMessage(() => validateConfig({ adapter: { production: { use: "" } } }))).toMatch(/^option "adapter.production.use" in the Errand config must be an adapter kind/);
    expect(configMessage(() => validateConfig({ adapter: { use: undefined, url: "redis://cache" } }))).toMatch(/^option "adapter.use" in the Errand config must be an adapter kind .*, got undefined$/);
  });

  it("a misspelt use is refused, naming it, instead of passing as a map of environments", () => {
    expect(configMessage(() => validateConfig({ adapter: { usr: "postgres", url: "postgres://u:pw@localhost/db" } }))).toBe(
      'option "adapter" in the Errand config has no "use" but has "usr": did you mean "adapter.use"? (an adapter setting names its adapter with use; without it, adapter reads as one setting per environment)',
    );
    expect(configMessage(() => validateConfig({ adapters: { reports: { production: { Use: "redis" } } } }))).toBe(
      'option "adapters.reports.production" in the Errand config has no "use" but has "Use": did you mean "adapters.reports.production.use"?',
    );
  });

  it("each value of a per-environment map must be a setting; a URL is not a kind", () => {
    expect(configMessage(() => validateConfig({ adapter: { url: "postgres://u:pw@localhost/db" } }))).toBe(
      'option "adapter.url" in the Errand config must be an adapter setting ("redis", { use: "redis", ...options } or an adapter instance), got "postgres://u:***@localhost/db"',
    );
    expect(configMessage(() => validateConfig({ adapter: { production: { url: "redis://cache" } } }))).toMatch(/^option "adapter.production" in the Errand config must be an adapter setting/);
  });

  it("accepts a setting, a map of settings, and options beside use", () => {
    validateConfig({ adapter: { use: "redis", url: "redis://localhost", user: "ops" } });
    validateConfig({ adapter: { test: "test", production: { use: "@acme/errand-adapter", region: "eu" } }, adapters: { side: "inline" } });
  });
});
