import { describe, expect, it } from "vitest";
import { expectInvalid } from "./invalid-argument.test-support.ts";
import {
  cpuQuotaFor,
  parseCpuShares,
  parseCpus,
  parseMemory,
  parseMemorySwap,
  parsePidsLimit,
} from "./resource-values.ts";

describe("parseMemory (-m, --memory)", () => {
  it.each([
    ["256m", 256 * 1024 ** 2],
    ["256M", 256 * 1024 ** 2],
    ["1g", 1024 ** 3],
    ["1.5G", 1.5 * 1024 ** 3],
    ["6144k", 6 * 1024 ** 2],
    ["512MiB", 512 * 1024 ** 2],
    ["512mb", 512 * 1024 ** 2],
    ["6291456", 6291456],
    ["6291456b", 6291456],
  ])("%s → %d bytes", (text, bytes) => {
    expect(parseMemory(text)).toBe(bytes);
  });

  it.each([
    [
      "256x",
      'invalid argument "256x" for --memory: expected a size such as 256m (a number with unit b, k, m or g)',
    ],
    [
      "",
      'invalid argument "" for --memory: expected a size such as 256m (a number with unit b, k, m or g)',
    ],
    [
      "-1m",
      'invalid argument "-1m" for --memory: expected a size such as 256m (a number with unit b, k, m or g)',
    ],
    [
      "1t",
      'invalid argument "1t" for --memory: expected a size such as 256m (a number with unit b, k, m or g)',
    ],
    [
      "m",
      'invalid argument "m" for --memory: expected a size such as 256m (a number with unit b, k, m or g)',
    ],
    ["5m", 'invalid argument "5m" for --memory: the minimum memory limit is 6m'],
    ["256", 'invalid argument "256" for --memory: the minimum memory limit is 6m'],
  ])("rejects %j", (text, message) => {
    expectInvalid(() => parseMemory(text), message);
  });

  it("throws INVALID_ARGUMENT", () => {
    try {
      parseMemory("lots");
    } catch (e) {
      expect((e as { code: string }).code).toBe("INVALID_ARGUMENT");
      return;
    }
    throw new Error("no error");
  });
});

describe("parseMemorySwap", () => {
  it("takes a size or -1", () => {
    expect(parseMemorySwap("512m")).toBe(512 * 1024 ** 2);
    expect(parseMemorySwap("-1")).toBe(-1);
    expectInvalid(
      () => parseMemorySwap("-2"),
      'invalid argument "-2" for --memory-swap: expected a size such as 256m (a number with unit b, k, m or g)',
    );
  });
});

describe("parseCpus (--cpus)", () => {
  it.each([
    ["0.5", 500_000_000],
    [".5", 500_000_000],
    ["2", 2_000_000_000],
    ["0.01", 10_000_000],
    ["1.000000001", 1_000_000_001],
    ["1.50", 1_500_000_000],
  ])("%s → %d nano-CPUs", (text, nanos) => {
    expect(parseCpus(text)).toBe(nanos);
  });

  it.each([
    ["half", 'invalid argument "half" for --cpus: expected a number of CPUs such as 0.5 or 2'],
    ["-1", 'invalid argument "-1" for --cpus: expected a number of CPUs such as 0.5 or 2'],
    ["", 'invalid argument "" for --cpus: expected a number of CPUs such as 0.5 or 2'],
    [".", 'invalid argument "." for --cpus: expected a number of CPUs such as 0.5 or 2'],
    ["0", 'invalid argument "0" for --cpus: the minimum is 0.01 CPUs'],
    ["0.001", 'invalid argument "0.001" for --cpus: the minimum is 0.01 CPUs'],
    [
      "0.0000000001",
      'invalid argument "0.0000000001" for --cpus: too precise: use at most 9 decimals',
    ],
  ])("rejects %j", (text, message) => {
    expectInvalid(() => parseCpus(text), message);
  });

  it("checks the host's CPU count when given", () => {
    expect(parseCpus("2", 2)).toBe(2_000_000_000);
    expectInvalid(
      () => parseCpus("2.5", 2),
      'invalid argument "2.5" for --cpus: this host has only 2 CPUs',
    );
  });

  it("converts to a CFS quota per 100 ms period", () => {
    expect(cpuQuotaFor(500_000_000)).toBe(50_000);
    expect(cpuQuotaFor(10_000_000)).toBe(1_000);
    expect(cpuQuotaFor(2_000_000_000)).toBe(200_000);
  });
});

describe("parsePidsLimit (--pids-limit)", () => {
  it("takes a positive count; 0 and -1 mean unlimited", () => {
    expect(parsePidsLimit("100")).toBe(100);
    expect(parsePidsLimit("0")).toBeUndefined();
    expect(parsePidsLimit("-1")).toBeUndefined();
  });

  it("rejects the rest", () => {
    expectInvalid(
      () => parsePidsLimit("ten"),
      'invalid argument "ten" for --pids-limit: expected an integer (-1 for unlimited)',
    );
    expectInvalid(
      () => parsePidsLimit("1.5"),
      'invalid argument "1.5" for --pids-limit: expected an integer (-1 for unlimited)',
    );
    expectInvalid(
      () => parsePidsLimit("-5"),
      'invalid argument "-5" for --pids-limit: use -1 for unlimited',
    );
  });
});

describe("parseCpuShares (--cpu-shares)", () => {
  it("takes 2..262144", () => {
    expect(parseCpuShares("512")).toBe(512);
    expectInvalid(
      () => parseCpuShares("1"),
      'invalid argument "1" for --cpu-shares: expected an integer between 2 and 262144',
    );
  });
});
