import { spawn } from "node:child_process";
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { AddressInfo } from "node:net";
import ssh2 from "ssh2";
import { AppLock } from "./app-lock.ts";
import { type GitService, parseGitRequest } from "./git-request.ts";
import { GitdError } from "./gitd-error.ts";
import { HookServer } from "./hook-server.ts";
import { loadOrCreateHostKey } from "./host-key.ts";
import { keyFingerprint } from "./key-fingerprint.ts";
import type { Principal, PushHandler } from "./push-types.ts";
import { RepositoryStore } from "./repository-store.ts";
import { splitShellWords } from "./shell-words.ts";

/** Finds the user a public key belongs to; null for a key nobody added. */
export interface KeyAuthority {
  identify(key: { algo: string; data: Buffer; fingerprint: string }): Promise<Principal | null>;
}

/**
 * May this principal push to / fetch from this app's repository? Throws a GitdError (FORBIDDEN or
 * NOT_FOUND) with the message to show otherwise. For a push to an app that does not exist, the
 * implementation may create the app (when the user may create apps) and resolve.
 */
export interface RepositoryAccess {
  authorize(principal: Principal, app: string, service: GitService): Promise<void>;
}

export interface CommandIo {
  principal: Principal;
  argv: string[];
  stdin: NodeJS.ReadableStream;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Set when the client asked for a terminal (`ssh -t`). */
  terminal?: { cols: number; rows: number; term: string };
}

/** Any SSH command that is not git: Berth's command line over SSH. Resolves to the exit code. */
export type CommandHandler = (io: CommandIo) => Promise<number>;

export interface GitdOptions {
  /** Loopback by default. */
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  hostKeyDir: string;
  gitRoot: string;
  hookSocket: string;
  keys: KeyAuthority;
  access: RepositoryAccess;
  onPush: PushHandler;
  commands?: CommandHandler;
}

/** The environment git runs in: nothing of the server's own, so no secret leaks into hooks. */
function gitEnvironment(extra: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: "/nonexistent",
    LANG: "C.UTF-8",
    ...extra,
  };
}

/**
 * Berth's git server: SSH with public-key authentication, `git receive-pack`/`upload-pack` run by
 * the real git on the app's bare repository, a pre-receive hook that hands each push to
 * `onPush` (one push per app at a time), and every other command to `commands`.
 */
export class GitSshServer {
  readonly repositories: RepositoryStore;
  private readonly hooks: HookServer;
  private readonly lock = new AppLock();
  private readonly server: ssh2.Server;
  private readonly children = new Set<import("node:child_process").ChildProcess>();

  constructor(private readonly options: GitdOptions) {
    this.repositories = new RepositoryStore(options.gitRoot);
    this.hooks = new HookServer(options.hookSocket, options.onPush);
    const hostKey = loadOrCreateHostKey(options.hostKeyDir);
    this.server = new ssh2.Server({ hostKeys: [hostKey] }, (client) => this.onClient(client));
  }

  async listen(): Promise<{ port: number }> {
    await this.hooks.listen();
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(this.options.port, this.options.host ?? "127.0.0.1", () => resolve());
    });
    return { port: (this.server.address() as AddressInfo).port };
  }

  async close(): Promise<void> {
    for (const child of this.children) child.kill("SIGTERM");
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await this.hooks.close();
  }

  private onClient(client: ssh2.Connection): void {
    let principal: Principal | null = null;
    client.on("error", () => client.end());
    client.on("authentication", (ctx) => {
      if (ctx.method !== "publickey") return ctx.reject(["publickey"]);
      void this.authenticate(ctx).then(
        (who) => {
          if (!who) return ctx.reject(["publickey"]);
          principal = who;
          ctx.accept();
        },
        () => ctx.reject(["publickey"]),
      );
    });
    client.on("ready", () => {
      client.on("session", (acceptSession) => {
        const session = acceptSession();
        let terminal: CommandIo["terminal"];
        session.on("pty", (accept, _reject, info) => {
          terminal = { cols: info.cols, rows: info.rows, term: info.term };
          accept?.();
        });
        session.on("env", (accept) => accept?.());
        session.on("shell", (_accept, reject) => reject());
        session.on("exec", (accept, _reject, info) => {
          const channel = accept();
          const who = principal as Principal;
          void this.exec(who, info.command, channel, terminal).catch((e: unknown) => {
            channel.stderr.write(`${(e as Error).message}\n`);
            channel.exit(1);
            channel.end();
          });
        });
      });
    });
  }

  private async authenticate(ctx: ssh2.PublicKeyAuthContext): Promise<Principal | null> {
    const who = await this.options.keys.identify({
      algo: ctx.key.algo,
      data: ctx.key.data,
      fingerprint: keyFingerprint(ctx.key.data),
    });
    if (!who) return null;
    // The first round only asks whether the key would do; the second carries the signature.
    if (!ctx.signature || !ctx.blob) return who;
    const key = ssh2.utils.parseKey(`${ctx.key.algo} ${ctx.key.data.toString("base64")}`);
    if (key instanceof Error) return null;
    const blob = key.getPublicSSH();
    if (blob.length !== ctx.key.data.length || !timingSafeEqual(blob, ctx.key.data)) return null;
    return key.verify(ctx.blob, ctx.signature, ctx.hashAlgo) === true ? who : null;
  }

  private async exec(
    principal: Principal,
    command: string,
    channel: ssh2.ServerChannel,
    terminal: CommandIo["terminal"],
  ): Promise<void> {
    const git = parseGitRequest(command);
    if (!git) {
      const handler = this.options.commands;
      if (!handler) throw new GitdError("INVALID_COMMAND", `unknown command: ${command}`);
      const argv = splitShellWords(command);
      const code = await handler({
        principal,
        argv,
        stdin: channel,
        stdout: channel,
        stderr: channel.stderr,
        ...(terminal ? { terminal } : {}),
      });
      channel.exit(code);
      channel.end();
      return;
    }
    await this.options.access.authorize(principal, git.app, git.service);
    if (git.service === "git-upload-pack" && !this.repositories.exists(git.app)) {
      throw new GitdError("NOT_FOUND", `app ${git.app} has no code yet: push to it first`, {
        app: git.app,
      });
    }
    const repository = await this.repositories.ensure(git.app);
    // A push holds its app from the ref advertisement on: the next push then starts from the refs
    // the first one left (as if it had come later), rather than failing to update a moved ref.
    const code =
      git.service === "git-receive-pack"
        ? await this.lock.run(
            git.app,
            () => channel.stderr.write(`waiting for another push to ${git.app} to finish…\n`),
            () => this.runGit(git.service, git.app, principal, repository, channel),
          )
        : await this.runGit(git.service, git.app, principal, repository, channel);
    channel.exit(code);
    channel.end();
  }

  private async runGit(
    service: GitService,
    app: string,
    principal: Principal,
    repository: string,
    channel: ssh2.ServerChannel,
  ): Promise<number> {
    const pushId = randomBytes(16).toString("hex");
    this.hooks.expect(pushId, { app, principal, repository });
    const child = spawn("git", [service.slice(4), repository], {
      env: gitEnvironment({
        BERTH_GITD_HOOK_SOCKET: this.hooks.socketPath,
        BERTH_PUSH_ID: pushId,
      }),
      stdio: ["pipe", "pipe", "pipe"],
    });
    this.children.add(child);
    channel.pipe(child.stdin);
    child.stdout.pipe(channel, { end: false });
    child.stderr.pipe(channel.stderr, { end: false });
    const code = await new Promise<number>((resolve) => {
      child.on("error", (e) => {
        channel.stderr.write(`cannot run git ${service}: ${e.message}\n`);
        resolve(1);
      });
      child.on("close", (status) => resolve(status ?? 1));
    });
    this.children.delete(child);
    this.hooks.forget(pushId);
    return code;
  }
}
