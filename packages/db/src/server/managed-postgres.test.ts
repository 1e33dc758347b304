import pg from "pg";
import { describe, expect, it } from "vitest";
import { ManagedPostgres } from "./managed-postgres.ts";

// pg's own parsing, so the test proves the URL means what pg will do with it.
function parse(url: string) {
  const client = new pg.Client({ connectionString: url });
  return { host: client.host, port: client.port, user: client.user, database: client.database };
}

describe("ManagedPostgres.connectionString", () => {
  it("points pg at the socket directory and port, as superuser, database berth", () => {
    const server = new ManagedPostgres({ socketDir: "/run/berth/postgres", port: 5544 });
    const url = server.connectionString();
    expect(url).toBe("postgresql://postgres@/berth?host=/run/berth/postgres&port=5544");
    expect(parse(url)).toMatchObject({
      host: "/run/berth/postgres",
      port: 5544,
      user: "postgres",
      database: "berth",
    });
  });

  it("survives unusual characters in the socket directory and database name", () => {
    const server = new ManagedPostgres({ socketDir: "/tmp/a b&c", port: 5433 });
    expect(parse(server.connectionString("my db"))).toMatchObject({
      host: "/tmp/a b&c",
      database: "my db",
    });
  });

  it("validates options at construction", () => {
    expect(() => new ManagedPostgres({ port: 22 })).toThrow(/INVALID|1024/);
  });
});
