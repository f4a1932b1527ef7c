// Signed per-job status tokens (issue 12, item 4): what opens a job's status and what not.
import { describe, expect, it } from "vitest";

import { ConfigError } from "../src/errors.js";
import { statusToken, verifyStatusToken } from "../src/http/token.js";
import { waitFor } from "../src/testing/wait-for.js";

const SECRET = "s".repeat(32);
const OTHER = "o".repeat(40);

describe("statusToken", () => {
  it("opens the job it was signed for, and no other", () => {
    const token = statusToken("job-1", { secret: SECRET });
    expect(token).toMatch(/^v1\.[0-9a-z]+\.[A-Za-z0-9_-]{43}$/);
    expect(verifyStatusToken(token, "job-1", SECRET)).toBeNull();
    expect(verifyStatusToken(token, "job-2", SECRET)).toBe("forged");
  });

  it("is refused when signed with another secret, tampered with, missing or malformed", () => {
    const token = statusToken("job-1", { secret: OTHER });
    expect(verifyStatusToken(token, "job-1", SECRET)).toBe("forged");
    const [v, expiry, signature] = token.split(".") as [string, string, string];
    const later = (Number.parseInt(expiry, 36) + 3_600_000).toString(36);
    expect(verifyStatusToken(`${v}.${later}.${signature}`, "job-1", OTHER)).toBe("forged");
    const flipped = signature.slice(0, -2) + (signature.at(-2) === "A" ? "B" : "A") + signature.at(-1);
    expect(verifyStatusToken(`${v}.${expiry}.${flipped}`, "job-1", OTHER)).toBe("forged");
    expect(verifyStatusToken(undefined, "job-1", SECRET)).toBe("missing");
    expect(verifyStatusToken("", "job-1", SECRET)).toBe("missing");
    expect(verifyStatusToken("not-a-token", "job-1", SECRET)).toBe("malformed");
  });

  it("expires", async () => {
    const token = statusToken("job-1", { secret: SECRET, expiresIn: 1 });
    const expiry = Number.parseInt(token.split(".")[1]!, 36);
    await waitFor(() => Date.now() > expiry);
    expect(verifyStatusToken(token, "job-1", SECRET)).toBe("expired");
    expect(verifyStatusToken(statusToken("job-1", { secret: SECRET, expiresIn: "1h" }), "job-1", SECRET)).toBeNull();
  });

  it("verifies with every secret of a rotation and signs with the first", () => {
    const old = statusToken("job-1", { secret: OTHER });
    const fresh = statusToken("job-1", { secret: [SECRET, OTHER] });
    expect(verifyStatusToken(old, "job-1", [SECRET, OTHER])).toBeNull();
    expect(verifyStatusToken(fresh, "job-1", SECRET)).toBeNull();
  });

  it("refuses a missing or short secret and a bad expiresIn, without printing the secret", () => {
    expect(() => statusToken("job-1", { secret: undefined as unknown as string })).toThrow(/secret is missing/);
    const short = "hunter2-but-longer";
    try {
      statusToken("job-1", { secret: short });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(/too short \(18 characters; at least 32/);
      expect((error as Error).message).not.toContain(short);
    }
    expect(() => statusToken("job-1", { secret: SECRET, expiresIn: "soon" })).toThrow(/expiresIn/);
    expect(() => statusToken("job-1", { secret: SECRET, expires: "1h" } as never)).toThrow(/unknown option "expires".*"expiresIn"/);
    expect(() => statusToken("", { secret: SECRET })).toThrow(/jobId/);
  });
});
