import type { RuntimeConfig } from "../config.ts";
import { CredentialStore, type RegistryCredentials } from "./credential-store.ts";
import { DOCKER_HUB, DOCKER_HUB_API_HOST } from "./image-reference.ts";
import { RegistryClient, type RegistryClientOptions } from "./registry-client.ts";
import { RegistryError } from "./registry-error.ts";

/**
 * Verifies credentials against a registry (GET /v2/, answering its Basic or Bearer challenge
 * with them) and, if it accepts them, stores them in `<root>/auth.json`.
 */
export async function login(
  config: Pick<RuntimeConfig, "root">,
  registry: string,
  credentials: RegistryCredentials,
  options: Omit<RegistryClientOptions, "credentials"> = {},
): Promise<void> {
  const name = registry.replace(/^https?:\/\//, "").replace(/\/.*$/, "");
  const key = name === "index.docker.io" || name === DOCKER_HUB_API_HOST ? DOCKER_HUB : name;
  if (key === "") {
    throw new RegistryError("INVALID_REFERENCE", `login: "${registry}" is not a registry name`);
  }
  const host = key === DOCKER_HUB ? DOCKER_HUB_API_HOST : key;
  const client = new RegistryClient({ ...options, credentials: async () => credentials });
  await client.checkAccess(key, host);
  await new CredentialStore(config.root).set(key, credentials);
}

/** A client that uses the credentials stored by login(). */
export function clientWithStoredCredentials(
  config: Pick<RuntimeConfig, "root">,
  options: Omit<RegistryClientOptions, "credentials"> = {},
): RegistryClient {
  const store = new CredentialStore(config.root);
  return new RegistryClient({ ...options, credentials: (registry) => store.get(registry) });
}
