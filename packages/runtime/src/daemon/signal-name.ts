import { constants as osConstants } from "node:os";
import { RuntimeError } from "../errors.ts";

/** `KILL`, `sigterm`, `SIGHUP` or `9` → the Node signal name; INVALID_ARGUMENT otherwise. */
export function signalName(raw: string): NodeJS.Signals {
  const signals = osConstants.signals as Record<string, number>;
  const upper = raw.trim().toUpperCase();
  const name = /^\d+$/.test(upper)
    ? Object.keys(signals).find((k) => signals[k] === Number(upper))
    : upper.startsWith("SIG")
      ? upper
      : `SIG${upper}`;
  if (!name || signals[name] === undefined) {
    throw new RuntimeError("INVALID_ARGUMENT", `unknown signal ${raw}`, { signal: raw });
  }
  return name as NodeJS.Signals;
}
