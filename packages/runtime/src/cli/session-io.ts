import type { Duplex } from "node:stream";
import { encodeFrame, FRAME, readFrames } from "../daemon/session-frames.ts";
import { RuntimeError, type RuntimeErrorCode } from "../errors.ts";
import type { ContainerCliContext } from "./cli-context.ts";

/**
 * Connects the terminal to an interactive session (exec, run -i/-t): stdin to the process (raw
 * mode for a tty), its output to stdout/stderr, window size changes and interrupts forwarded.
 * Resolves with the process's exit code; an ERROR frame is thrown as a RuntimeError.
 */
export function pipeSession(
  session: { socket: Duplex; head: Buffer },
  ctx: ContainerCliContext,
  mode: { stdin: boolean; tty: boolean },
): Promise<number> {
  const { socket } = session;
  const send = (type: (typeof FRAME)[keyof typeof FRAME], payload?: Buffer | string) => {
    if (!socket.destroyed) socket.write(encodeFrame(type, payload));
  };
  const raw = mode.tty && ctx.stdin.isTTY === true && typeof ctx.stdin.setRawMode === "function";
  const cleanups: (() => void)[] = [];
  if (raw) {
    ctx.stdin.setRawMode!(true);
    cleanups.push(() => ctx.stdin.setRawMode!(false));
  }
  if (mode.tty && ctx.stdout.columns && ctx.stdout.rows) {
    const resize = () =>
      send(FRAME.RESIZE, JSON.stringify({ cols: ctx.stdout.columns, rows: ctx.stdout.rows }));
    resize();
    if (ctx.handleSignals) {
      process.on("SIGWINCH", resize);
      cleanups.push(() => process.off("SIGWINCH", resize));
    }
  }
  if (mode.stdin) {
    const onData = (d: Buffer | string) => send(FRAME.STDIN, Buffer.from(d));
    const onEnd = () => send(FRAME.STDIN_EOF);
    ctx.stdin.on("data", onData);
    ctx.stdin.on("end", onEnd);
    cleanups.push(() => {
      ctx.stdin.off("data", onData);
      ctx.stdin.off("end", onEnd);
      (ctx.stdin as { pause?: () => void }).pause?.();
    });
  }
  if (ctx.handleSignals && !raw) {
    // Without a raw terminal, ^C arrives here as a signal: forward it, like docker's sig-proxy.
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      const h = () => send(FRAME.SIGNAL, JSON.stringify({ signal: sig }));
      process.on(sig, h);
      cleanups.push(() => process.off(sig, h));
    }
  }
  return new Promise<number>((resolve, reject) => {
    let done = false;
    const finish = (f: () => void) => {
      if (done) return;
      done = true;
      for (const c of cleanups) c();
      socket.end();
      f();
    };
    readFrames(
      socket,
      (type, payload) => {
        if (type === FRAME.STDOUT) ctx.stdout.write(payload);
        else if (type === FRAME.STDERR) ctx.stderr.write(payload);
        else if (type === FRAME.EXIT) {
          const exit = JSON.parse(payload.toString()) as { exitCode: number };
          finish(() => resolve(exit.exitCode));
        } else if (type === FRAME.ERROR) {
          const e = JSON.parse(payload.toString()) as { code: string; message: string };
          finish(() => reject(new RuntimeError(e.code as RuntimeErrorCode, e.message)));
        }
      },
      session.head,
    );
    socket.on("close", () =>
      finish(() => reject(new RuntimeError("INTERNAL", "the engine closed the session early"))),
    );
    socket.on("error", () => {});
  });
}
