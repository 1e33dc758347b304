import { describe, expect, it } from "vitest";
import { templateDir } from "./template-cluster.ts";

describe("templateDir", () => {
  const base = {
    version: "15.18 (Debian 15.18-0+deb12u1)",
    owner: ["postgres", 101, 104] as [string, number, number],
    durable: false,
  };

  it("is stable for the same inputs", () => {
    expect(templateDir("/var/cache/berth", base)).toBe(templateDir("/var/cache/berth", base));
    expect(templateDir("/var/cache/berth", base)).toMatch(
      /^\/var\/cache\/berth\/pg-template-[0-9a-f]{16}$/,
    );
  });

  it("changes with the server version, the owner and durability", () => {
    const dir = templateDir("/c", base);
    expect(templateDir("/c", { ...base, version: "15.19 (Debian)" })).not.toBe(dir);
    expect(templateDir("/c", { ...base, owner: ["postgres", 102, 104] })).not.toBe(dir);
    expect(templateDir("/c", { ...base, durable: true })).not.toBe(dir);
  });
});
