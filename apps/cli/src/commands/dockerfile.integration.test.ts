import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { berth, tempBase } from "../operator/berth-script.test-support.ts";

describe("./berth dockerfile parse", () => {
  let base: string;
  beforeAll(async () => {
    base = await tempBase("dockerfile");
  });
  afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

  it("prints the parse tree, one instruction a line, and names the line of a syntax error", async () => {
    const good = path.join(base, "Dockerfile");
    fs.writeFileSync(
      good,
      'FROM node:20 AS build\nRUN ["npm", "ci"]\nCOPY --from=build /app /app\n',
    );
    const r = await berth(base, ["dockerfile", "parse", good]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      '(from "node:20" "AS" "build")\n(run "npm" "ci")\n(copy ["--from=build"] "/app" "/app")\n',
    );
    const bad = path.join(base, "Dockerfile.bad");
    fs.writeFileSync(bad, "FROM x\nRUNN make\n");
    const failed = await berth(base, ["dockerfile", "parse", bad]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toBe(`berth: ${bad}: Dockerfile line 2: unknown instruction: RUNN\n`);
    const missing = await berth(base, ["dockerfile", "parse", path.join(base, "nope")]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain("ENOENT");
  });
});
