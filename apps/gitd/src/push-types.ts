import { z } from "zod";

export const refUpdateSchema = z.object({
  oldSha: z.string().regex(/^[0-9a-f]{40,64}$/),
  newSha: z.string().regex(/^[0-9a-f]{40,64}$/),
  ref: z.string().min(1),
});
export type RefUpdate = z.infer<typeof refUpdateSchema>;

/** What the pre-receive hook sends to the git server: one JSON line. */
export const hookRequestSchema = z.object({
  pushId: z.string().regex(/^[0-9a-f]{32}$/),
  updates: z.array(refUpdateSchema).min(1),
  gitEnv: z.record(z.string(), z.string()),
});
export type HookRequest = z.infer<typeof hookRequestSchema>;

/** Who is on the other end of an SSH connection, as the key authority identified them. */
export interface Principal {
  userId: string;
  /** For messages: the user's name or e-mail. */
  name: string;
}

export interface Push {
  app: string;
  principal: Principal;
  repository: string;
  updates: RefUpdate[];
  /**
   * Environment under which the pushed (still quarantined) objects are readable, e.g. for
   * `git archive`: GIT_DIR plus git's object-directory variables.
   */
  gitEnv: Record<string, string>;
  /** Text shown to the pusher (git prefixes each line with `remote:`). */
  write(text: string): void;
}

/** Decides a push: resolves true to accept it, false to reject it (after saying why). */
export type PushHandler = (push: Push) => Promise<boolean>;
