import { z } from "zod";
import { type AuthChallenge, parseWwwAuthenticate } from "./auth-challenge.ts";
import type { RegistryCredentials } from "./credential-store.ts";
import { type Attempt, discard, fetchFollowingRedirects } from "./http-transport.ts";
import { errorFromResponse, RegistryError } from "./registry-error.ts";

/** Looks up stored credentials by registry name (`docker.io`, `127.0.0.1:5000`). */
export type CredentialLookup = (registry: string) => Promise<RegistryCredentials | undefined>;

const tokenResponseSchema = z.object({
  token: z.string().optional(),
  access_token: z.string().optional(),
  expires_in: z.number().optional(),
});

// Docker's token spec: a token with no expires_in lives 60 s. Renew a little early.
const DEFAULT_TOKEN_SECONDS = 60;
const EXPIRY_MARGIN_MS = 5_000;

interface CachedToken {
  header: string;
  expiresAt: number;
}

export function basicAuthorization(credentials: RegistryCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString("base64")}`;
}

/**
 * Answers registry auth challenges: Bearer tokens fetched from the challenge's realm (anonymous, or
 * with basic credentials) and cached per host and scope set; Basic credentials for registries that
 * ask for them.
 */
export class RegistryAuthenticator {
  private readonly tokens = new Map<string, CachedToken>();
  private readonly basicHosts = new Set<string>();
  /** How many tokens were fetched from realms (for tests and diagnostics). */
  tokenFetches = 0;

  constructor(
    private readonly credentials: CredentialLookup,
    private readonly now: () => number = Date.now,
  ) {}

  /** The Authorization header to send up front, if this host and scope set already have one. */
  async cached(host: string, registry: string, scopes: string[]): Promise<string | undefined> {
    const token = this.tokens.get(cacheKey(host, scopes));
    if (token && token.expiresAt > this.now()) return token.header;
    if (this.basicHosts.has(host)) {
      const creds = await this.credentials(registry);
      if (creds) return basicAuthorization(creds);
    }
    return undefined;
  }

  /**
   * The Authorization header that answers a 401's challenge, or undefined when there is nothing new
   * to try (then the caller reports the 401).
   */
  async answer(
    challengeHeader: string | null,
    host: string,
    registry: string,
    scopes: string[],
    sent: string | undefined,
    what: Attempt,
  ): Promise<string | undefined> {
    const challenges = parseWwwAuthenticate(challengeHeader ?? "");
    const bearer = challenges.find((c) => c.scheme === "bearer");
    if (bearer) {
      const header = await this.fetchToken(bearer, registry, scopes, what);
      this.tokens.set(cacheKey(host, scopes), header);
      return header.header === sent ? undefined : header.header;
    }
    if (challenges.some((c) => c.scheme === "basic")) {
      const creds = await this.credentials(registry);
      if (!creds) {
        throw new RegistryError(
          "AUTH_FAILED",
          `${what.attempt} ${what.where}: the registry asks for a user name and password and none are stored; run \`berth login ${registry}\``,
          { ...what },
        );
      }
      this.basicHosts.add(host);
      const header = basicAuthorization(creds);
      return header === sent ? undefined : header;
    }
    return undefined;
  }

  /** Forgets everything cached for a host (after a login, for instance). */
  forget(host: string): void {
    this.basicHosts.delete(host);
    for (const key of this.tokens.keys()) if (key.startsWith(`${host} `)) this.tokens.delete(key);
  }

  private async fetchToken(
    challenge: AuthChallenge,
    registry: string,
    scopes: string[],
    what: Attempt,
  ): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) {
      throw new RegistryError(
        "PROTOCOL",
        `${what.attempt} ${what.where}: the registry's Bearer challenge has no realm`,
        { ...what },
      );
    }
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError(
        "PROTOCOL",
        `${what.attempt} ${what.where}: the Bearer realm "${realm}" is not a URL`,
        { ...what },
      );
    }
    if (challenge.params.service) url.searchParams.set("service", challenge.params.service);
    const wanted = new Set(scopes);
    if (challenge.params.scope) for (const s of challenge.params.scope.split(" ")) wanted.add(s);
    for (const scope of wanted) url.searchParams.append("scope", scope);
    const creds = await this.credentials(registry);
    if (creds) url.searchParams.set("account", creds.username);
    const tokenWhat = { attempt: `getting a token from ${url.origin} for`, where: what.where };
    this.tokenFetches++;
    const res = await fetchFollowingRedirects(
      {
        method: "GET",
        url,
        headers: { accept: "application/json" },
        authorization: creds ? basicAuthorization(creds) : undefined,
      },
      tokenWhat,
    );
    if (!res.ok) throw await errorFromResponse(res, tokenWhat.attempt, what.where, registry);
    const parsed = tokenResponseSchema.safeParse(await res.json().catch(() => undefined));
    const token = parsed.success ? (parsed.data.token ?? parsed.data.access_token) : undefined;
    if (!token) {
      await discard(res);
      throw new RegistryError(
        "PROTOCOL",
        `${tokenWhat.attempt} ${what.where}: the token server's answer has no token`,
        { ...what },
      );
    }
    const seconds = parsed.data?.expires_in ?? DEFAULT_TOKEN_SECONDS;
    return {
      header: `Bearer ${token}`,
      expiresAt: this.now() + Math.max(seconds * 1000 - EXPIRY_MARGIN_MS, 1000),
    };
  }
}

function cacheKey(host: string, scopes: string[]): string {
  return `${host} ${[...scopes].sort().join(" ")}`;
}
