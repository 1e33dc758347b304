import { sql } from "drizzle-orm";
import { check, index, pgEnum, pgTable, text, timestamp, unique, uuid } from "drizzle-orm/pg-core";
import { createdAt, primaryId } from "./columns.ts";

/** Admins manage every app and the users; members manage their own apps and those they collaborate on. */
export const userRole = pgEnum("user_role", ["admin", "member"]);

export const users = pgTable(
  "users",
  {
    id: primaryId(),
    email: text("email").notNull(),
    passwordHash: text("password_hash").notNull(),
    role: userRole("role").notNull().default("member"),
    createdAt: createdAt(),
  },
  (t) => [
    unique("users_email_key").on(t.email),
    // The platform lowercases emails; this keeps the plain UNIQUE case-insensitive in effect.
    check("users_email_lowercase", sql`${t.email} = lower(${t.email})`),
  ],
);

/** Browser sessions; only a hash of the cookie token is stored, so a database leak grants no access. */
export const sessions = pgTable(
  "sessions",
  {
    id: primaryId(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique("sessions_token_hash_key").on(t.tokenHash),
    index("sessions_user_id_idx").on(t.userId),
    index("sessions_expires_at_idx").on(t.expiresAt),
  ],
);

/** Public keys that authenticate `git push` and commands over SSH; a key belongs to one user only. */
export const sshKeys = pgTable(
  "ssh_keys",
  {
    id: primaryId(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    publicKey: text("public_key").notNull(),
    /** SHA256 fingerprint (`SHA256:…`), the lookup key during SSH authentication. */
    fingerprint: text("fingerprint").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique("ssh_keys_fingerprint_key").on(t.fingerprint),
    unique("ssh_keys_user_id_name_key").on(t.userId, t.name),
  ],
);

/** Tokens for the API and the CLI; stored hashed like sessions. */
export const apiTokens = pgTable(
  "api_tokens",
  {
    id: primaryId(),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    tokenHash: text("token_hash").notNull(),
    lastUsedAt: timestamp("last_used_at", { withTimezone: true }),
    /** Null means the token does not expire. */
    expiresAt: timestamp("expires_at", { withTimezone: true }),
    createdAt: createdAt(),
  },
  (t) => [
    unique("api_tokens_token_hash_key").on(t.tokenHash),
    index("api_tokens_user_id_idx").on(t.userId),
  ],
);

export type User = typeof users.$inferSelect;
export type NewUser = typeof users.$inferInsert;
export type Session = typeof sessions.$inferSelect;
export type NewSession = typeof sessions.$inferInsert;
export type SshKey = typeof sshKeys.$inferSelect;
export type NewSshKey = typeof sshKeys.$inferInsert;
export type ApiToken = typeof apiTokens.$inferSelect;
export type NewApiToken = typeof apiTokens.$inferInsert;
