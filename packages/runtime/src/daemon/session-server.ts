import type http from "node:http";
import type { Duplex } from "node:stream";
import { z } from "zod";
import type { RuntimeConfig } from "../config.ts";
import { containerPaths } from "../container/container-paths.ts";
import type { Engine } from "../engine/engine.ts";
import { runOptionsSchema } from "../spec/run-options.ts";
import { toApiError } from "./http-errors.ts";
import { tailLogs } from "./log-tail.ts";
import { encodeFrame, FRAME, readFrames } from "./session-frames.ts";
import { signalName } from "./signal-name.ts";

/** `exec` options (docker exec's), as the `options` query value of an exec session. */
export const execRequestSchema = z.strictObject({
  args: z.array(z.string()).min(1, "a command is required"),
  env: z.array(z.string().regex(/^[^=]+=/, "env entries are NAME=value")).optional(),
  cwd: z.string().startsWith("/", "the working directory must be absolute").optional(),
  user: z.string().min(1).optional(),
  tty: z.boolean().default(false),
  stdin: z.boolean().default(false),
  size: z
    .strictObject({ cols: z.number().int().positive(), rows: z.number().int().positive() })
    .optional(),
});
export type ExecRequest = z.input<typeof execRequestSchema>;

const resizeSchema = z.object({
  cols: z.number().int().positive(),
  rows: z.number().int().positive(),
});
const signalSchema = z.object({ signal: z.string() });

/**
 * Interactive sessions on a connection upgraded from HTTP (`Upgrade: berth-session`), framed as
 * in session-frames.ts: `GET /v1/containers/:ref/exec?options=…` (docker exec) and
 * `GET /v1/run-session?options=…` (docker run -i/-t). Any failure becomes an ERROR frame.
 */
export function handleSessionUpgrade(
  engine: Engine,
  config: RuntimeConfig,
  req: http.IncomingMessage,
  socket: Duplex,
  head: Buffer,
): void {
  socket.write(
    "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: berth-session\r\n\r\n",
  );
  const send = (type: (typeof FRAME)[keyof typeof FRAME], payload?: Buffer | string) => {
    if (!socket.destroyed && socket.writable) socket.write(encodeFrame(type, payload));
  };
  const fail = (e: unknown) => {
    send(FRAME.ERROR, JSON.stringify(toApiError(e).body));
    socket.end();
  };
  socket.on("error", () => {});
  const url = new URL(req.url ?? "/", "http://engine");
  const options = JSON.parse(url.searchParams.get("options") ?? "{}") as unknown;
  const exec = /^\/v1\/containers\/([^/]+)\/exec$/.exec(url.pathname);
  const session = exec
    ? execSession(engine, decodeURIComponent(exec[1]!), options, socket, head, send)
    : url.pathname === "/v1/run-session"
      ? runSession(engine, config, options, socket, head, send)
      : Promise.reject(new Error(`no session route ${url.pathname}`));
  session.catch(fail);
}

type Send = (type: (typeof FRAME)[keyof typeof FRAME], payload?: Buffer | string) => void;

async function execSession(
  engine: Engine,
  ref: string,
  raw: unknown,
  socket: Duplex,
  head: Buffer,
  send: Send,
): Promise<void> {
  const o = execRequestSchema.parse(raw);
  const session = await engine.exec(ref, {
    args: o.args,
    ...(o.env ? { env: o.env } : {}),
    ...(o.cwd ? { cwd: o.cwd } : {}),
    ...(o.user ? { user: o.user } : {}),
    tty: o.tty,
    stdin: o.stdin,
    ...(o.size ? { size: o.size } : {}),
  });
  readFrames(
    socket,
    (type, payload) => {
      if (type === FRAME.STDIN) session.stdin?.write(payload);
      else if (type === FRAME.STDIN_EOF) session.stdin?.end();
      else if (type === FRAME.RESIZE && o.tty) {
        const { cols, rows } = resizeSchema.parse(JSON.parse(payload.toString()));
        session.resize(cols, rows);
      } else if (type === FRAME.SIGNAL) {
        session.kill(signalName(signalSchema.parse(JSON.parse(payload.toString())).signal));
      }
    },
    head,
  );
  // The client went away: the process would otherwise run on with nobody to read it.
  socket.on("close", () => session.kill("SIGKILL"));
  session.stdin?.on("error", () => {});
  let sentError = false;
  const outputs = [session.stdout, session.stderr].flatMap((s) => (s ? [s] : []));
  const ended = outputs.map(
    (s) =>
      new Promise<void>((resolve) => {
        s.on("data", (d: Buffer) => {
          if (session.error && d.includes(session.error)) sentError = true;
          send(s === session.stderr ? FRAME.STDERR : FRAME.STDOUT, d);
        });
        s.on("end", resolve);
        s.on("close", resolve);
        s.on("error", () => resolve());
      }),
  );
  const exit = await session.wait();
  // Output still in flight after the exit; a pty hangs up (EIO) once its last holder is gone.
  await Promise.race([Promise.all(ended), new Promise((r) => setTimeout(r, 1000))]);
  // "command not found" is written by the process itself; should that output have been lost
  // (it exited at once), say it here, once.
  if (session.error && !sentError) send(FRAME.STDERR, `${session.error}\n`);
  send(FRAME.EXIT, JSON.stringify(exit));
  socket.end();
}

async function runSession(
  engine: Engine,
  config: RuntimeConfig,
  raw: unknown,
  socket: Duplex,
  head: Buffer,
  send: Send,
): Promise<void> {
  const options = runOptionsSchema.parse(raw);
  // The session removes an --rm container itself, once its output is drained.
  const created = await engine.create({ ...options, rm: false });
  try {
    await engine.start(created.id);
  } catch (e) {
    await engine.remove(created.id, { force: true }).catch(() => {});
    throw e;
  }
  send(FRAME.CREATED, JSON.stringify({ id: created.id, name: created.name }));
  const exited = engine.wait(created.id);
  const attachment = engine.attach(created.id);
  attachment.stdin?.on("error", () => {});
  readFrames(
    socket,
    (type, payload) => {
      if (type === FRAME.STDIN) attachment.stdin?.write(payload);
      else if (type === FRAME.STDIN_EOF) attachment.stdin?.end();
      else if (type === FRAME.RESIZE && attachment.tty) {
        const { cols, rows } = resizeSchema.parse(JSON.parse(payload.toString()));
        attachment.resize(cols, rows);
      } else if (type === FRAME.SIGNAL) {
        const sig = signalName(signalSchema.parse(JSON.parse(payload.toString())).signal);
        engine.kill(created.id, sig).catch(() => {});
      }
    },
    head,
  );
  const abort = new AbortController();
  socket.on("close", () => abort.abort());
  if (attachment.output) {
    const output = attachment.output;
    const ended = new Promise<void>((resolve) => {
      output.on("data", (d: Buffer) => send(FRAME.STDOUT, d));
      output.on("end", resolve);
      output.on("close", resolve);
    });
    await exited;
    await Promise.race([ended, new Promise((r) => setTimeout(r, 2500))]);
  } else {
    await tailLogs(
      {
        file: containerPaths(config, created.id).log,
        maxFiles: config.logMaxFiles,
        until: exited,
        signal: abort.signal,
      },
      (l) => send(l.stream === "stderr" ? FRAME.STDERR : FRAME.STDOUT, l.log),
    );
  }
  const exit = await exited;
  if (options.rm) await engine.remove(created.id, { force: true, volumes: true }).catch(() => {});
  send(FRAME.EXIT, JSON.stringify({ exitCode: exit.exitCode, signal: exit.signal }));
  socket.end();
}
