import type { ExecRequest } from "../daemon/session-server.ts";
import { parseEnvAssignment } from "../spec/env.ts";
import { ContainerCliError, type ContainerVerb } from "./cli-context.ts";
import { withEngine } from "./engine-connection.ts";
import { pipeSession } from "./session-io.ts";

const USAGE = "berth container exec [-it] [-u USER[:GROUP]] [-e K=V] [-w DIR] ID|NAME CMD [ARG…]";

/**
 * Options end at the container's name: everything after it is the command, flags included
 * (`exec web sh -c 'ls -l'`), as docker reads it.
 */
export function parseExecArgs(
  args: string[],
  hostEnv: Readonly<Record<string, string | undefined>> = {},
): { ref: string; request: ExecRequest } {
  const env: string[] = [];
  let user: string | undefined;
  let cwd: string | undefined;
  let stdin = false;
  let tty = false;
  let i = 0;
  const value = (flag: string, inline: string | undefined) => {
    if (inline !== undefined && inline !== "") return inline;
    const v = args[++i];
    if (v === undefined) throw new ContainerCliError(`flag needs an argument: ${flag}`);
    return v;
  };
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") {
      i++;
      break;
    }
    if (!a.startsWith("-") || a === "-") break;
    const [flag, inline] = a.startsWith("--")
      ? (a.split(/=(.*)/s) as [string, string?])
      : [a, undefined];
    if (flag === "--interactive") stdin = true;
    else if (flag === "--tty") tty = true;
    else if (flag === "--user") user = value(flag, inline);
    else if (flag === "--env") env.push(value(flag, inline));
    else if (flag === "--workdir") cwd = value(flag, inline);
    else if (!flag.startsWith("--")) {
      // Bundled short flags: -it, -u0, -e K=V, -w/tmp.
      for (let j = 1; j < flag.length; j++) {
        const c = flag[j]!;
        if (c === "i") stdin = true;
        else if (c === "t") tty = true;
        else if (c === "u" || c === "e" || c === "w") {
          const v = value(`-${c}`, flag.slice(j + 1));
          if (c === "u") user = v;
          else if (c === "e") env.push(v);
          else cwd = v;
          break;
        } else throw new ContainerCliError(`unknown shorthand flag: '${c}' in ${flag}`);
      }
    } else throw new ContainerCliError(`unknown flag: ${flag}`);
  }
  const ref = args[i];
  const command = args.slice(i + 1);
  if (ref === undefined || command.length === 0) throw new ContainerCliError(`usage: ${USAGE}`);
  if (cwd !== undefined && !cwd.startsWith("/")) {
    throw new ContainerCliError(
      `invalid argument "${cwd}" for -w: the working directory must be absolute`,
    );
  }
  const envList = env.flatMap((e) => parseEnvAssignment(e, hostEnv) ?? []);
  return {
    ref,
    request: {
      args: command,
      ...(envList.length > 0 ? { env: envList } : {}),
      ...(cwd !== undefined ? { cwd } : {}),
      ...(user !== undefined ? { user } : {}),
      tty,
      stdin,
    },
  };
}

/** `berth container exec`: runs a command in a running container; exits with its code. */
export const execVerb: ContainerVerb = {
  summary: "run a command in a running container",
  usage: USAGE,
  async run(args, ctx) {
    const { ref, request } = parseExecArgs(args, ctx.hostEnv);
    return withEngine(ctx, async (client) => {
      const size =
        request.tty && ctx.stdout.columns && ctx.stdout.rows
          ? { size: { cols: ctx.stdout.columns, rows: ctx.stdout.rows } }
          : {};
      const session = await client.openSession(`/v1/containers/${encodeURIComponent(ref)}/exec`, {
        ...request,
        ...size,
      });
      return pipeSession(session, ctx, {
        stdin: request.stdin ?? false,
        tty: request.tty ?? false,
      });
    });
  },
};
