import { check, index, jsonb, pgEnum, pgTable, text, unique, uuid } from "drizzle-orm/pg-core";
import { apps } from "./apps.ts";
import { createdAt, matchesPattern, primaryId, updatedAt } from "./columns.ts";
import { ADDON_NAME_PATTERN, ATTACHMENT_NAME_PATTERN } from "./patterns.ts";

export const addonType = pgEnum("addon_type", ["postgres", "memcached"]);

/** provisioning → available → deprovisioning; failed when provisioning did not complete. */
export const addonState = pgEnum("addon_state", [
  "provisioning",
  "available",
  "deprovisioning",
  "failed",
]);

/** A database or cache that Berth runs in its own container and volume, owned by one app. */
export const addons = pgTable(
  "addons",
  {
    id: primaryId(),
    name: text("name").notNull(),
    type: addonType("type").notNull(),
    plan: text("plan").notNull(),
    // CASCADE: destroying the owning app destroys its add-ons (as on Heroku); the platform
    // deprovisions the container and volume before it deletes the app row.
    appId: uuid("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    state: addonState("state").notNull().default("provisioning"),
    containerId: text("container_id"),
    volume: text("volume"),
    /** Credentials encrypted by the platform (never plaintext); null until provisioned. */
    credentialsEncrypted: text("credentials_encrypted"),
    /** Non-secret settings of the plan (version, memory limit, …). */
    config: jsonb("config").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: createdAt(),
    updatedAt: updatedAt(),
  },
  (t) => [
    unique("addons_name_key").on(t.name),
    check("addons_name_format", matchesPattern(t.name, ADDON_NAME_PATTERN)),
    index("addons_app_id_idx").on(t.appId),
  ],
);

/**
 * Makes an add-on's URL visible to an app as `<AS_NAME>_URL`. The same add-on may be attached to
 * several apps, and twice to one app under different names.
 */
export const addonAttachments = pgTable(
  "addon_attachments",
  {
    id: primaryId(),
    addonId: uuid("addon_id")
      .notNull()
      .references(() => addons.id, { onDelete: "cascade" }),
    appId: uuid("app_id")
      .notNull()
      .references(() => apps.id, { onDelete: "cascade" }),
    asName: text("as_name").notNull(),
    createdAt: createdAt(),
  },
  (t) => [
    unique("addon_attachments_app_id_as_name_key").on(t.appId, t.asName),
    check("addon_attachments_as_name_format", matchesPattern(t.asName, ATTACHMENT_NAME_PATTERN)),
    index("addon_attachments_addon_id_idx").on(t.addonId),
  ],
);

export type Addon = typeof addons.$inferSelect;
export type NewAddon = typeof addons.$inferInsert;
export type AddonAttachment = typeof addonAttachments.$inferSelect;
export type NewAddonAttachment = typeof addonAttachments.$inferInsert;
