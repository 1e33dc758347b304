import { createServer, type Server } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ManagedPostgresError } from "../errors.ts";
import { assertPortFree, findFreePort, isPortFree } from "./port-check.ts";

describe("port check", () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  it("sees a free port as free and a listened one as taken", async () => {
    const port = await findFreePort();
    expect(await isPortFree(port)).toBe(true);
    server = createServer();
    await new Promise<void>((resolve) => server?.listen(port, "127.0.0.1", resolve));
    expect(await isPortFree(port)).toBe(false);
  });

  it("throws PORT_IN_USE naming the port and how to change it", async () => {
    server = createServer();
    await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
    const address = server.address();
    const port = typeof address === "object" && address !== null ? address.port : 0;
    const error = await assertPortFree(port).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ManagedPostgresError);
    expect(error).toMatchObject({ code: "PORT_IN_USE", context: { port } });
    expect((error as Error).message).toContain(`port ${port}`);
    expect((error as Error).message).toContain("port option");
  });
});
