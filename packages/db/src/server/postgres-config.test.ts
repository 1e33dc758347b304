import { describe, expect, it } from "vitest";
import { quoteConfValue, renderBerthConf, withBerthInclude } from "./postgres-config.ts";

describe("renderBerthConf", () => {
  const conf = renderBerthConf({ port: 5433, socketDir: "/run/berth/postgres", durable: true });

  it("listens on loopback only, on the given port and socket directory", () => {
    expect(conf).toContain("listen_addresses = '127.0.0.1'\n");
    expect(conf).toContain("port = 5433\n");
    expect(conf).toContain("unix_socket_directories = '/run/berth/postgres'\n");
  });

  it("restricts the trust socket to its owner", () => {
    expect(conf).toContain("unix_socket_permissions = 0700\n");
  });

  it("keeps fsync unless the cluster is a throwaway", () => {
    expect(conf).not.toContain("fsync");
    const fast = renderBerthConf({ port: 1234, socketDir: "/tmp/s", durable: false });
    expect(fast).toContain("fsync = off\n");
    expect(fast).toContain("synchronous_commit = off\n");
  });
});

describe("quoteConfValue", () => {
  it("doubles quotes and escapes backslashes", () => {
    expect(quoteConfValue("/tmp/it's")).toBe("'/tmp/it''s'");
    expect(quoteConfValue("C:\\x")).toBe("'C:\\\\x'");
  });
});

describe("withBerthInclude", () => {
  it("appends the include once, at the end", () => {
    const once = withBerthInclude("port = 5432\n");
    expect(once.trimEnd().endsWith("include 'berth.conf'")).toBe(true);
    expect(withBerthInclude(once)).toBe(once);
  });

  it("handles a file without a final newline", () => {
    expect(withBerthInclude("port = 5432")).toMatch(/^port = 5432\n\n# Added by Berth/);
  });
});
