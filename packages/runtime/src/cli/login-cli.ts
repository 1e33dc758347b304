import { parseArgs } from "node:util";
import { CredentialStore } from "../registry/credential-store.ts";
import { login } from "../registry/registry-login.ts";
import type { ContainerCliContext } from "./cli-context.ts";
import { ContainerCliError } from "./cli-context.ts";

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  let text = "";
  for await (const chunk of stream) text += chunk.toString();
  return text;
}

/**
 * `berth login [-u USER] [-p PASSWORD | --password-stdin] REGISTRY`: checks the credentials
 * against the registry and keeps them (in the runtime's auth.json, 0600) for pull and push.
 */
export async function runLoginCli(argv: string[], ctx: ContainerCliContext): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: {
        username: { type: "string", short: "u" },
        password: { type: "string", short: "p" },
        "password-stdin": { type: "boolean" },
      },
      allowPositionals: true,
      strict: true,
    });
    if (positionals.length !== 1 || !values.username) {
      throw new ContainerCliError(
        "usage: berth login -u USER [-p PASSWORD | --password-stdin] REGISTRY",
        1,
      );
    }
    if (values.password !== undefined && values["password-stdin"]) {
      throw new ContainerCliError("--password and --password-stdin are mutually exclusive", 1);
    }
    const password = values["password-stdin"]
      ? (await readAll(ctx.stdin)).replace(/\r?\n$/, "")
      : values.password;
    if (!password) throw new ContainerCliError("give the password with -p or --password-stdin", 1);
    if (values.password !== undefined) {
      ctx.stderr.write(
        "WARNING! Using --password on the command line is insecure; use --password-stdin.\n",
      );
    }
    await login({ root: ctx.daemon.root }, positionals[0] as string, {
      username: values.username,
      password,
    });
    ctx.stdout.write("Login Succeeded\n");
    return 0;
  } catch (e) {
    ctx.stderr.write(`berth: ${(e as Error).message.split("\n")[0]}\n`);
    return 1;
  }
}

/** `berth logout REGISTRY`: forgets the stored credentials. */
export async function runLogoutCli(argv: string[], ctx: ContainerCliContext): Promise<number> {
  if (argv.length !== 1) {
    ctx.stderr.write("berth: usage: berth logout REGISTRY\n");
    return 1;
  }
  const removed = await new CredentialStore(ctx.daemon.root).remove(argv[0] as string);
  ctx.stdout.write(
    removed ? `Removing login credentials for ${argv[0]}\n` : `Not logged in to ${argv[0]}\n`,
  );
  return 0;
}
