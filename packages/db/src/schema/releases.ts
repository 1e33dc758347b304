import { sql } from "drizzle-orm";
import { check, integer, jsonb, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import { apps } from "./apps.ts";
import { builds } from "./builds.ts";
import { createdAt, primaryId } from "./columns.ts";
import { users } from "./users.ts";

/**
 * An immutable pairing of an image with a config snapshot (v1, v2, …). Config changes, deploys
 * and rollbacks each create one; dynos always run a release, never "the latest config".
 */
export const releases = pgTable(
  "releases",
  {
    id: primaryId(),
    appId: uuid("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    /** Image reference; null only for releases made before the first build (config-only). */
    image: text("image"),
    /** Config vars as they were when the release was made: `{ KEY: "value" }`. */
    config: jsonb("config").$type<Record<string, string>>().notNull().default({}),
    /** Process types and their commands from the Procfile: `{ web: "node server.js" }`. */
    processTypes: jsonb("process_types").$type<Record<string, string>>().notNull().default({}),
    description: text("description").notNull(),
    // SET NULL: a release outlives the build row if builds are ever pruned.
    buildId: uuid("build_id").references(() => builds.id, { onDelete: "set null" }),
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [
    // Also the index for "releases of an app, newest first".
    unique("releases_app_id_version_key").on(t.appId, t.version),
    check("releases_version_positive", sql`${t.version} > 0`),
  ],
);

export type Release = typeof releases.$inferSelect;
export type NewRelease = typeof releases.$inferInsert;
