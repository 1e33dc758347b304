import { describe, expect, it } from "vitest";
import { guardChainName, installLoopbackGuard, removeLoopbackGuard } from "./loopback-guard.ts";

/** A fake iptables: a set of "chain rule…" lines, answering -L/-C/-N/-A/-I/-D/-F/-X. */
function fakeIptables() {
  const chains = new Set<string>();
  const rules: string[] = [];
  const calls: string[] = [];
  const run = async (file: string, args: readonly string[]): Promise<string> => {
    calls.push([file, ...args].join(" "));
    const [, op, chain, ...rest] = args as string[];
    const rule = `${chain} ${(op === "-I" ? rest.slice(1) : rest).join(" ")}`;
    const fail = (): never => {
      throw new Error("iptables: No chain/target/match by that name.");
    };
    if (op === "-n") return chains.has(rest[0]!) ? "" : fail();
    if (op === "-N") chains.add(chain!);
    if (op === "-X") chains.delete(chain!);
    if (op === "-F")
      rules.splice(0, rules.length, ...rules.filter((r) => !r.startsWith(`${chain} `)));
    if (op === "-C") return rules.includes(rule) ? "" : fail();
    if (op === "-A" || op === "-I") rules.push(rule);
    if (op === "-D") {
      if (!rules.includes(rule)) fail();
      rules.splice(rules.indexOf(rule), 1);
    }
    return "";
  };
  return { chains, rules, calls, run };
}

describe("loopback guard", () => {
  it("installs a berth-owned chain dropping new connections to 127.0.0.0/8 from the bridge", async () => {
    const ipt = fakeIptables();
    await installLoopbackGuard("berth0", ipt.run);
    expect(guardChainName("berth0")).toBe("berth0-guard");
    expect([...ipt.chains]).toEqual(["berth0-guard"]);
    expect(ipt.rules).toEqual([
      "berth0-guard -d 127.0.0.0/8 -m conntrack ! --ctstate RELATED,ESTABLISHED -m comment --comment berth: berth0 must not reach host loopback -j DROP",
      "INPUT -i berth0 -j berth0-guard",
    ]);
    expect(ipt.calls).toContain("iptables -w -I INPUT 1 -i berth0 -j berth0-guard");
  });

  it("is idempotent, and removal takes everything away", async () => {
    const ipt = fakeIptables();
    await installLoopbackGuard("berth0", ipt.run);
    await installLoopbackGuard("berth0", ipt.run);
    expect(ipt.rules).toHaveLength(2);
    await removeLoopbackGuard("berth0", ipt.run);
    await removeLoopbackGuard("berth0", ipt.run);
    expect(ipt.rules).toEqual([]);
    expect(ipt.chains.size).toBe(0);
  });
});
