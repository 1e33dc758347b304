import { describe, expect, it } from "vitest";
import { ContainerCliError } from "./cli-context.ts";
import { parseLabelFlags } from "./volume-cli.ts";

describe("volume create --label", () => {
  it("reads KEY=VALUE, a bare KEY as empty, and keeps '=' inside values", () => {
    expect(parseLabelFlags(["app=shop", "tier", "expr=a=b", "empty="])).toEqual({
      app: "shop",
      tier: "",
      expr: "a=b",
      empty: "",
    });
    expect(parseLabelFlags(undefined)).toEqual({});
  });

  it("refuses an empty key", () => {
    expect(() => parseLabelFlags(["=v"])).toThrow(ContainerCliError);
    expect(() => parseLabelFlags(["=v"])).toThrow('invalid --label "=v": expected KEY=VALUE');
  });
});
