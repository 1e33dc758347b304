import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { ManagedPostgresError } from "../errors.ts";

const execFileAsync = promisify(execFile);

/** An OS account as the passwd database (files, LDAP, …) knows it. */
export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

/** Looks `name` up with getent (so NSS sources count), or throws OS_USER_MISSING. */
export async function lookupOsUser(name: string): Promise<OsUser> {
  let line: string;
  try {
    const { stdout } = await execFileAsync("getent", ["passwd", name]);
    line = stdout.trim();
  } catch (error) {
    throw new ManagedPostgresError("OS_USER_MISSING", `OS user "${name}" does not exist`, {
      action: "look up the Postgres OS user",
      hint: `Install Debian's postgresql package (it creates the "postgres" user) or pass an existing user as osUser.`,
      cause: error,
    });
  }
  const fields = line.split(":");
  const uid = Number(fields[2]);
  const gid = Number(fields[3]);
  if (fields.length < 7 || !Number.isInteger(uid) || !Number.isInteger(gid)) {
    throw new ManagedPostgresError("OS_USER_MISSING", `getent returned "${line}" for "${name}"`, {
      action: "look up the Postgres OS user",
      hint: "Check the passwd database entry of that user.",
    });
  }
  if (uid === 0) {
    throw new ManagedPostgresError("OS_USER_MISSING", `OS user "${name}" is root`, {
      action: "look up the Postgres OS user",
      hint: "Postgres refuses to run as root; pass an unprivileged user as osUser.",
    });
  }
  return { name, uid, gid, home: fields[5] ?? "/" };
}
