import { type SQL, sql } from "drizzle-orm";
import { type AnyPgColumn, timestamp, uuid } from "drizzle-orm/pg-core";

/** A uuid primary key filled by Postgres (gen_random_uuid is built in since 13), so rows inserted by hand or by SQL get ids too. */
export const primaryId = () => uuid("id").primaryKey().defaultRandom();

/** A creation time set by the database clock, so every writer agrees on it. */
export const createdAt = () =>
  timestamp("created_at", { withTimezone: true }).notNull().defaultNow();

/** A last-change time; the platform sets it on update (no trigger, to keep migrations plain). */
export const updatedAt = () =>
  timestamp("updated_at", { withTimezone: true }).notNull().defaultNow();

/**
 * A CHECK expression `column ~ 'pattern'`, built from the same RegExp the platform validates with,
 * so the database and the zod schemas cannot drift apart. Patterns must use only syntax shared by
 * JavaScript and Postgres regular expressions, and contain no quote.
 */
export function matchesPattern(column: AnyPgColumn, pattern: RegExp): SQL {
  if (pattern.source.includes("'")) throw new Error(`pattern ${pattern} must not contain a quote`);
  return sql`${column} ~ ${sql.raw(`'${pattern.source}'`)}`;
}
