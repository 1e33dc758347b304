import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import path from "node:path";
import { z } from "zod";
import { DOCKER_HUB } from "./image-reference.ts";

export interface RegistryCredentials {
  username: string;
  password: string;
}

/** `<root>/auth.json`, in Docker's config.json `auths` shape so that people recognise it. */
const authFileSchema = z.object({
  auths: z.record(z.string(), z.object({ auth: z.string() })).default({}),
});
type AuthFile = z.infer<typeof authFileSchema>;

/** Registry names as people write them → the key credentials are stored under. */
export function credentialKey(registry: string): string {
  const host = registry
    .trim()
    .replace(/^https?:\/\//, "")
    .replace(/\/.*$/, "")
    .toLowerCase();
  if (host === "index.docker.io" || host === "registry-1.docker.io" || host === "") {
    return DOCKER_HUB;
  }
  return host;
}

/**
 * Per-registry credentials kept in `<root>/auth.json` (mode 0600, replaced atomically:
 * temp file, fsync, rename).
 */
export class CredentialStore {
  readonly file: string;
  constructor(root: string) {
    this.file = path.join(root, "auth.json");
  }

  /** Credentials for a registry (`docker.io`, `127.0.0.1:5000`), if any were stored. */
  async get(registry: string): Promise<RegistryCredentials | undefined> {
    const entry = (await this.read()).auths[credentialKey(registry)];
    if (!entry) return undefined;
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon === -1) return undefined;
    return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
  }

  /** Stores (or replaces) the credentials of one registry. */
  async set(registry: string, credentials: RegistryCredentials): Promise<void> {
    const file = await this.read();
    const auth = Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64");
    file.auths[credentialKey(registry)] = { auth };
    await this.write(file);
  }

  /** Forgets a registry's credentials; true if there were any. */
  async remove(registry: string): Promise<boolean> {
    const file = await this.read();
    const key = credentialKey(registry);
    if (!(key in file.auths)) return false;
    delete file.auths[key];
    await this.write(file);
    return true;
  }

  private async read(): Promise<AuthFile> {
    let text: string;
    try {
      text = await fs.readFile(this.file, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { auths: {} };
      throw error;
    }
    return authFileSchema.parse(JSON.parse(text));
  }

  private async write(content: AuthFile): Promise<void> {
    await fs.mkdir(path.dirname(this.file), { recursive: true, mode: 0o700 });
    const temp = `${this.file}.tmp-${process.pid}-${randomBytes(4).toString("hex")}`;
    const handle = await fs.open(temp, "wx", 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(content, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await fs.rename(temp, this.file);
    } catch (error) {
      await fs.rm(temp, { force: true });
      throw error;
    }
  }
}
