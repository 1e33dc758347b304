import fs from "node:fs";
import net from "node:net";
import { type HookRequest, hookRequestSchema, type Push } from "./push-types.ts";

export type PushContext = Omit<Push, "updates" | "gitEnv" | "write">;

/**
 * The unix socket that pre-receive hooks call back on. Each `git receive-pack` that gitd starts
 * gets a one-time push id; the hook presents it, and the server answers with the push's output and
 * verdict. Root-only (0600): no other local user can pose as a hook.
 */
export class HookServer {
  private readonly pending = new Map<string, PushContext>();
  private server: net.Server | undefined;

  constructor(
    readonly socketPath: string,
    private readonly decide: (push: Push) => Promise<boolean>,
  ) {}

  async listen(): Promise<void> {
    fs.rmSync(this.socketPath, { force: true });
    const server = net.createServer((socket) => this.serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.socketPath, () => resolve());
    });
    fs.chmodSync(this.socketPath, 0o600);
    this.server = server;
  }

  expect(pushId: string, context: PushContext): void {
    this.pending.set(pushId, context);
  }

  forget(pushId: string): void {
    this.pending.delete(pushId);
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    fs.rmSync(this.socketPath, { force: true });
  }

  private serve(socket: net.Socket): void {
    let buffered = "";
    socket.setEncoding("utf8");
    socket.on("error", () => socket.destroy());
    socket.on("data", (chunk: string) => {
      buffered += chunk;
      const nl = buffered.indexOf("\n");
      if (nl < 0) return;
      socket.removeAllListeners("data");
      void this.answer(socket, buffered.slice(0, nl));
    });
  }

  private async answer(socket: net.Socket, line: string): Promise<void> {
    const send = (message: object) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
    };
    let request: HookRequest;
    try {
      request = hookRequestSchema.parse(JSON.parse(line));
    } catch (e) {
      send({
        out: `malformed request from the pre-receive hook: ${(e as Error).message}\n`,
        exit: 1,
      });
      socket.end();
      return;
    }
    const context = this.pending.get(request.pushId);
    if (!context) {
      send({ out: "this push was not started by Berth's git server\n", exit: 1 });
      socket.end();
      return;
    }
    const push: Push = {
      ...context,
      updates: request.updates,
      gitEnv: { GIT_DIR: context.repository, ...request.gitEnv },
      write: (text) => send({ out: text }),
    };
    let accepted = false;
    try {
      accepted = await this.decide(push);
    } catch (e) {
      send({ out: `push failed: ${(e as Error).message}\n` });
    }
    send({ exit: accepted ? 0 : 1 });
    socket.end();
  }
}
