import { sql } from "drizzle-orm";
import { check, index, jsonb, pgTable, text, uuid } from "drizzle-orm/pg-core";
import { apps } from "./apps.ts";
import { createdAt, primaryId } from "./columns.ts";
import { users } from "./users.ts";

/**
 * The activity feed and audit trail (`app.created`, `release.created`, `config.updated`, …).
 * Events of an app go with it; platform-wide events have no app. Record an app's destruction
 * with app_id null and the name in `data`, or it is deleted along with the app.
 */
export const events = pgTable(
  "events",
  {
    id: primaryId(),
    appId: uuid("app_id").references(() => apps.id, { onDelete: "cascade" }),
    // SET NULL: the trail survives the deletion of the user who acted.
    actorId: uuid("actor_id").references(() => users.id, { onDelete: "set null" }),
    kind: text("kind").notNull(),
    data: jsonb("data").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
  },
  (t) => [
    check("events_kind_not_empty", sql`${t.kind} <> ''`),
    index("events_app_id_created_at_idx").on(t.appId, t.createdAt),
    index("events_created_at_idx").on(t.createdAt),
  ],
);

export type Event = typeof events.$inferSelect;
export type NewEvent = typeof events.$inferInsert;
