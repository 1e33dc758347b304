import { check, index, pgEnum, pgTable, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { apps } from "./apps.ts";
import { createdAt, matchesPattern, primaryId } from "./columns.ts";
import { COMMIT_SHA_PATTERN } from "./patterns.ts";
import { users } from "./users.ts";

/** pending → running → succeeded | failed; the platform owns the transitions. */
export const buildStatus = pgEnum("build_status", ["pending", "running", "succeeded", "failed"]);

/** One build of a pushed commit into an image. */
export const builds = pgTable(
  "builds",
  {
    id: primaryId(),
    appId: uuid("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    status: buildStatus("status").notNull().default("pending"),
    sourceCommit: text("source_commit").notNull(),
    /** Image reference in the runtime's store; set when the build succeeds. */
    imageRef: text("image_ref"),
    /** The build output as streamed to `git push`, kept for the dashboard. */
    log: text("log").notNull().default(""),
    startedAt: timestamp("started_at", { withTimezone: true }),
    finishedAt: timestamp("finished_at", { withTimezone: true }),
    // SET NULL: deleting a user keeps the history of what was built.
    createdBy: uuid("created_by").references(() => users.id, { onDelete: "set null" }),
    createdAt: createdAt(),
  },
  (t) => [
    check("builds_source_commit_format", matchesPattern(t.sourceCommit, COMMIT_SHA_PATTERN)),
    index("builds_app_id_created_at_idx").on(t.appId, t.createdAt),
  ],
);

export type Build = typeof builds.$inferSelect;
export type NewBuild = typeof builds.$inferInsert;
