import { describe, expect, it } from "vitest";
import { expandWord, expandWords } from "./expand-variables.ts";

const env = { A: "apple", EMPTY: "", PATH: "/usr/bin", SP: "two words" };

describe("expandWord / expandWords", () => {
  it.each([
    ["$A", "apple"],
    ["${A}pie", "applepie"],
    ["$NOPE-x", "-x"],
    ["${NOPE:-fallback}", "fallback"],
    ["${EMPTY:-fallback}", "fallback"],
    ["${EMPTY-fallback}", ""],
    ["${A:+set}", "set"],
    ["${NOPE:+set}", ""],
    ["${NOPE:-${A}}", "apple"],
    ["$PATH:/opt/bin", "/usr/bin:/opt/bin"],
    ["'$A'", "$A"],
    ['"$A and $SP"', "apple and two words"],
    ["\\$A", "$A"],
    ['"\\$A \\" \\\\"', '$A " \\'],
    ["cost: $", "cost: $"],
  ])("%s → %s", (text, expected) => {
    expect(expandWord(text, env)).toBe(expected);
  });

  it("splits on unquoted blanks only, after expansion of quoted parts", () => {
    expect(expandWords('a "b c" $SP d\\ e', env)).toEqual(["a", "b c", "two", "words", "d e"]);
  });

  it("uses the escape directive's character", () => {
    expect(expandWord("c:\\dir `$A", env, "`")).toBe("c:\\dir $A");
  });

  it("names what is wrong with a bad substitution", () => {
    expect(() => expandWord("${NOPE:?must be set}", env, "\\", 7)).toThrow(
      "Dockerfile line 7: NOPE: must be set",
    );
    expect(() => expandWord("${A", env)).toThrow(/missing '}'/);
    expect(() => expandWord("${}", env)).toThrow(/must be followed by a variable name/);
    expect(() => expandWord("${A%x}", env)).toThrow(/unsupported modifier/);
    expect(() => expandWord("'open", env)).toThrow(/matching '/);
  });
});
