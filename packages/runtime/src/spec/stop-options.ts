import { constants } from "node:os";
import { invalidArgument } from "./flag-value.ts";

/** glibc's SIGRTMIN (the kernel's 32 and 33 are taken by the threading library) and SIGRTMAX. */
const SIGRTMIN = 34;
const SIGRTMAX = 64;

/**
 * `--stop-signal`: a number (1–64) or a name with or without `SIG`, any case (`TERM`, `sigusr1`,
 * `RTMIN+3`). Returns the signal number.
 */
export function parseStopSignal(value: string): number {
  const fail = () =>
    invalidArgument(
      "--stop-signal",
      value,
      "expected a signal name such as SIGTERM or a number 1-64",
    );
  const text = value.trim().toUpperCase();
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < 1 || n > SIGRTMAX) throw fail();
    return n;
  }
  const name = text.startsWith("SIG") ? text : `SIG${text}`;
  const rt = /^SIGRT(MIN|MAX)([+-]\d+)?$/.exec(name);
  if (rt) {
    const n = (rt[1] === "MIN" ? SIGRTMIN : SIGRTMAX) + Number(rt[2] ?? 0);
    if (n < SIGRTMIN || n > SIGRTMAX) throw fail();
    return n;
  }
  const n = (constants.signals as Record<string, number>)[name];
  if (n === undefined) throw fail();
  return n;
}

/** `--stop-timeout`: whole seconds to wait after the stop signal before SIGKILL. */
export function parseStopTimeout(value: string): number {
  const text = value.trim();
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(Number(text))) {
    throw invalidArgument("--stop-timeout", value, "expected a whole number of seconds");
  }
  return Number(text);
}
