import { createServer } from "node:net";
import { ManagedPostgresError } from "../errors.ts";

/** True when nothing listens on `host:port` (we can bind it ourselves for a moment). */
export function isPortFree(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EADDRINUSE") resolve(false);
      else reject(error);
    });
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/** Throws PORT_IN_USE when another program already listens on 127.0.0.1:`port`. */
export async function assertPortFree(port: number): Promise<void> {
  if (await isPortFree(port)) return;
  throw new ManagedPostgresError("PORT_IN_USE", "another program already listens on 127.0.0.1", {
    action: "start managed Postgres",
    port,
    hint: `Find it with: ss -ltnp 'sport = :${port}'. Stop it, or give Berth's Postgres another port (the port option).`,
  });
}

/** A port that was free on 127.0.0.1 a moment ago (the kernel picks it), for tests. */
export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen({ port: 0, host: "127.0.0.1" }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
