import { sql } from "drizzle-orm";
import { boolean, check, index, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import { createdAt, matchesPattern, primaryId, updatedAt } from "./columns.ts";
import { APP_NAME_PATTERN, CONFIG_KEY_PATTERN, HOSTNAME_PATTERN } from "./patterns.ts";
import { users } from "./users.ts";

export const apps = pgTable(
  "apps",
  {
    id: primaryId(),
    name: text("name").notNull(),
    // RESTRICT: a user who still owns apps cannot be deleted by accident; transfer or destroy them first.
    ownerId: uuid("owner_id")
      .notNull()
      .references(() => users.id, { onDelete: "restrict" }),
    /** When true the router answers every request with the maintenance page. */
    maintenance: boolean("maintenance").notNull().default(false),
    createdAt: createdAt(),
  },
  (t) => [
    unique("apps_name_key").on(t.name),
    check("apps_name_format", matchesPattern(t.name, APP_NAME_PATTERN)),
    index("apps_owner_id_idx").on(t.ownerId),
  ],
);

/** Users other than the owner who may deploy and manage an app. */
export const collaborators = pgTable(
  "collaborators",
  {
    id: primaryId(),
    appId: uuid("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    userId: uuid("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
  },
  (t) => [
    unique("collaborators_app_id_user_id_key").on(t.appId, t.userId),
    index("collaborators_user_id_idx").on(t.userId),
  ],
);

/** The current environment of an app; each release also keeps a snapshot of it. */
export const configVars = pgTable(
  "config_vars",
  {
    id: primaryId(),
    appId: uuid("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    key: text("key").notNull(),
    value: text("value").notNull(),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("config_vars_app_id_key_key").on(t.appId, t.key),
    check("config_vars_key_format", matchesPattern(t.key, CONFIG_KEY_PATTERN)),
  ],
);

/** Custom hostnames routed to an app, in addition to `<app>.<platform domain>`. */
export const domains = pgTable(
  "domains",
  {
    id: primaryId(),
    appId: uuid("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    hostname: text("hostname").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique("domains_hostname_key").on(t.hostname),
    check("domains_hostname_format", matchesPattern(t.hostname, HOSTNAME_PATTERN)),
    check("domains_hostname_length", sql`length(${t.hostname}) <= 253`),
    index("domains_app_id_idx").on(t.appId),
  ],
);

export type App = typeof apps.$inferSelect;
export type NewApp = typeof apps.$inferInsert;
export type Collaborator = typeof collaborators.$inferSelect;
export type NewCollaborator = typeof collaborators.$inferInsert;
export type ConfigVar = typeof configVars.$inferSelect;
export type NewConfigVar = typeof configVars.$inferInsert;
export type Domain = typeof domains.$inferSelect;
export type NewDomain = typeof domains.$inferInsert;
