import { sql } from "drizzle-orm";
import {
  check,
  index,
  inet,
  integer,
  pgEnum,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from "drizzle-orm/pg-core";
import { apps } from "./apps.ts";
import { createdAt, matchesPattern, primaryId, updatedAt } from "./columns.ts";
import { PROCESS_TYPE_PATTERN } from "./patterns.ts";
import { releases } from "./releases.ts";

/** Resource limits per dyno; the platform maps each size to memory and CPU limits. */
export const dynoSize = pgEnum("dyno_size", ["basic", "standard", "performance"]);

/** Observed state of one dyno's container, written by the agent. */
export const dynoState = pgEnum("dyno_state", ["starting", "up", "crashed", "stopping", "down"]);

/** Desired state: how many dynos of each process type an app should run, and how big. */
export const formation = pgTable(
  "formation",
  {
    id: primaryId(),
    appId: uuid("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    processType: text("process_type").notNull(),
    quantity: integer("quantity").notNull().default(0),
    size: dynoSize("size").notNull().default("basic"),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("formation_app_id_process_type_key").on(t.appId, t.processType),
    check("formation_quantity_not_negative", sql`${t.quantity} >= 0`),
    check("formation_process_type_format", matchesPattern(t.processType, PROCESS_TYPE_PATTERN)),
  ],
);

/**
 * Actual state: one row per container the agent runs (`web.1`). No uniqueness on (type, index):
 * during a zero-downtime swap the old and new release's `web.1` run side by side.
 */
export const dynos = pgTable(
  "dynos",
  {
    id: primaryId(),
    appId: uuid("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    releaseId: uuid("release_id")
      .notNull()
      .references(() => releases.id, { onDelete: "cascade" }),
    processType: text("process_type").notNull(),
    /** The `1` in `web.1`. */
    index: integer("index").notNull(),
    /** The runtime's container id; null until the container exists. */
    containerId: text("container_id"),
    state: dynoState("state").notNull().default("starting"),
    /** Where the router reaches the dyno. */
    hostIp: inet("host_ip"),
    hostPort: integer("host_port"),
    startedAt: timestamp("started_at", { withTimezone: true }),
    /** Exit status of the last run, for `crashed` dynos and `ps` output. */
    exitCode: integer("exit_code"),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("dynos_container_id_key").on(t.containerId),
    index("dynos_app_id_process_type_idx").on(t.appId, t.processType),
    index("dynos_release_id_idx").on(t.releaseId),
    check("dynos_index_positive", sql`${t.index} >= 1`),
    check("dynos_host_port_range", sql`${t.hostPort} IS NULL OR ${t.hostPort} BETWEEN 1 AND 65535`),
    check("dynos_process_type_format", matchesPattern(t.processType, PROCESS_TYPE_PATTERN)),
  ],
);

export type Formation = typeof formation.$inferSelect;
export type NewFormation = typeof formation.$inferInsert;
export type Dyno = typeof dynos.$inferSelect;
export type NewDyno = typeof dynos.$inferInsert;
