import { randomBytes } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { createDatabase, type Database } from "../client.ts";
import { type ConstraintViolation, constraintViolationOf } from "../errors.ts";
import { runMigrations } from "../migrate.ts";
import { createScratchDatabase } from "../testing/throwaway-postgres.ts";
import {
  addonAttachments,
  addons,
  apps,
  builds,
  collaborators,
  configVars,
  domains,
  dynos,
  events,
  formation,
  releases,
  sshKeys,
  users,
} from "./index.ts";

let database: Database;
beforeAll(async () => {
  const url = await createScratchDatabase(inject("databaseUrl"));
  await runMigrations(url);
  database = createDatabase(url);
});
afterAll(async () => {
  await database?.close();
});

const unique = () => randomBytes(4).toString("hex");

async function newUser(email = `u-${unique()}@example.com`) {
  const [user] = await database.db
    .insert(users)
    .values({ email, passwordHash: "hash" })
    .returning();
  return user!;
}

async function newApp(ownerId: string, name = `app-${unique()}`) {
  const [app] = await database.db.insert(apps).values({ name, ownerId }).returning();
  return app!;
}

/** Runs `write`, expecting Postgres to refuse it; returns which constraint refused. */
async function violation(write: () => Promise<unknown>): Promise<ConstraintViolation> {
  const error = await write().then(
    () => undefined,
    (e: unknown) => e,
  );
  const found = constraintViolationOf(error);
  if (found === undefined) throw new Error(`expected a constraint violation, got ${String(error)}`);
  return found;
}

describe("apps", () => {
  it("rejects a duplicate name", async () => {
    const owner = await newUser();
    const app = await newApp(owner.id);
    expect(await violation(() => newApp(owner.id, app.name))).toEqual({
      kind: "unique",
      constraint: "apps_name_key",
      table: "apps",
    });
  });

  it.each(["My-App", "1app", "-app", "app-", "a", "my_app", "x".repeat(31)])(
    "rejects the name %j with the CHECK",
    async (name) => {
      const owner = await newUser();
      expect(await violation(() => newApp(owner.id, name))).toMatchObject({
        kind: "check",
        constraint: "apps_name_format",
      });
    },
  );

  it("accepts DNS-safe names from 2 to 30 characters", async () => {
    const owner = await newUser();
    const suffix = unique();
    await newApp(owner.id, `a${suffix.slice(0, 1)}`);
    await expect(newApp(owner.id, `n${suffix}${"x".repeat(21)}`)).resolves.toMatchObject({
      maintenance: false,
    });
  });

  it("keeps a user who owns apps from being deleted", async () => {
    const owner = await newUser();
    await newApp(owner.id);
    expect(
      await violation(() => database.db.delete(users).where(eq(users.id, owner.id))),
    ).toMatchObject({ kind: "foreign_key", table: "apps" });
  });
});

describe("users and keys", () => {
  it("rejects a duplicate SSH key fingerprint, even for another user", async () => {
    const [alice, bob] = [await newUser(), await newUser()];
    const fingerprint = `SHA256:${unique()}`;
    await database.db
      .insert(sshKeys)
      .values({ userId: alice.id, name: "laptop", publicKey: "ssh-ed25519 AAAA", fingerprint });
    expect(
      await violation(() =>
        database.db
          .insert(sshKeys)
          .values({ userId: bob.id, name: "laptop", publicKey: "ssh-ed25519 AAAA", fingerprint }),
      ),
    ).toMatchObject({ kind: "unique", constraint: "ssh_keys_fingerprint_key" });
  });

  it("rejects a duplicate or non-lowercase email", async () => {
    const user = await newUser();
    expect(await violation(() => newUser(user.email))).toMatchObject({
      constraint: "users_email_key",
    });
    expect(await violation(() => newUser(`Upper-${unique()}@example.com`))).toMatchObject({
      kind: "check",
      constraint: "users_email_lowercase",
    });
  });
});

describe("releases", () => {
  it("numbers versions uniquely per app, and independently across apps", async () => {
    const owner = await newUser();
    const [first, second] = [await newApp(owner.id), await newApp(owner.id)];
    const release = (appId: string) =>
      database.db.insert(releases).values({ appId, version: 1, description: "Initial release" });
    await release(first.id);
    await release(second.id);
    expect(await violation(() => release(first.id))).toMatchObject({
      kind: "unique",
      constraint: "releases_app_id_version_key",
    });
  });
});

describe("formation and config", () => {
  it("rejects a negative quantity and a second row for one process type", async () => {
    const app = await newApp((await newUser()).id);
    expect(
      await violation(() =>
        database.db.insert(formation).values({ appId: app.id, processType: "web", quantity: -1 }),
      ),
    ).toMatchObject({ kind: "check", constraint: "formation_quantity_not_negative" });
    await database.db.insert(formation).values({ appId: app.id, processType: "web", quantity: 2 });
    expect(
      await violation(() =>
        database.db.insert(formation).values({ appId: app.id, processType: "web" }),
      ),
    ).toMatchObject({ kind: "unique", constraint: "formation_app_id_process_type_key" });
  });

  it("rejects config keys that are not environment variable names, and duplicates", async () => {
    const app = await newApp((await newUser()).id);
    expect(
      await violation(() =>
        database.db.insert(configVars).values({ appId: app.id, key: "BAD-KEY", value: "x" }),
      ),
    ).toMatchObject({ kind: "check", constraint: "config_vars_key_format" });
    await database.db.insert(configVars).values({ appId: app.id, key: "GOOD_KEY", value: "1" });
    expect(
      await violation(() =>
        database.db.insert(configVars).values({ appId: app.id, key: "GOOD_KEY", value: "2" }),
      ),
    ).toMatchObject({ kind: "unique", constraint: "config_vars_app_id_key_key" });
  });
});

describe("deleting an app", () => {
  it("cascades to everything the app owns, and only that", async () => {
    const owner = await newUser();
    const helper = await newUser();
    const [app, bystander] = [await newApp(owner.id), await newApp(owner.id)];
    const db = database.db;

    const [build] = await db
      .insert(builds)
      .values({ appId: app.id, sourceCommit: "a".repeat(40), createdBy: owner.id })
      .returning();
    const [release] = await db
      .insert(releases)
      .values({ appId: app.id, version: 1, description: "Deploy", buildId: build!.id })
      .returning();
    await db.insert(configVars).values({ appId: app.id, key: "K", value: "v" });
    await db.insert(formation).values({ appId: app.id, processType: "web", quantity: 1 });
    await db
      .insert(dynos)
      .values({ appId: app.id, releaseId: release!.id, processType: "web", index: 1 });
    await db.insert(domains).values({ appId: app.id, hostname: `www.${unique()}.example.com` });
    await db.insert(collaborators).values({ appId: app.id, userId: helper.id });
    const [addon] = await db
      .insert(addons)
      .values({ name: `pg-${unique()}`, type: "postgres", plan: "basic", appId: app.id })
      .returning();
    await db.insert(addonAttachments).values({ addonId: addon!.id, appId: app.id, asName: "DB" });
    await db.insert(events).values({ appId: app.id, actorId: owner.id, kind: "app.created" });
    // The bystander's attachment of the doomed app's add-on goes with the add-on.
    await db
      .insert(addonAttachments)
      .values({ addonId: addon!.id, appId: bystander.id, asName: "SHARED" });
    await db.insert(releases).values({ appId: bystander.id, version: 1, description: "Keep me" });

    const owned = [
      "builds",
      "releases",
      "config_vars",
      "formation",
      "dynos",
      "domains",
      "collaborators",
      "addons",
      "addon_attachments",
      "events",
    ];
    const countFor = async (appId: string) => {
      const counts: Record<string, number> = {};
      for (const table of owned) {
        const result = await db.execute<{ n: number }>(
          sql`SELECT count(*)::int AS n FROM ${sql.identifier(table)} WHERE app_id = ${appId}`,
        );
        counts[table] = result.rows[0]!.n;
      }
      return counts;
    };
    expect(Object.values(await countFor(app.id)).every((n) => n === 1)).toBe(true);

    await db.delete(apps).where(eq(apps.id, app.id));

    expect(await countFor(app.id)).toEqual(Object.fromEntries(owned.map((table) => [table, 0])));
    expect(await countFor(bystander.id)).toMatchObject({ releases: 1, addon_attachments: 0 });
    const remainingUsers = await db.select().from(users).where(eq(users.id, helper.id));
    expect(remainingUsers).toHaveLength(1);
  });
});

describe("add-on attachments", () => {
  it("rejects the same attachment name twice on one app", async () => {
    const app = await newApp((await newUser()).id);
    const [addon] = await database.db
      .insert(addons)
      .values({ name: `mc-${unique()}`, type: "memcached", plan: "basic", appId: app.id })
      .returning();
    const attach = () =>
      database.db
        .insert(addonAttachments)
        .values({ addonId: addon!.id, appId: app.id, asName: "CACHE" });
    await attach();
    expect(await violation(attach)).toMatchObject({
      kind: "unique",
      constraint: "addon_attachments_app_id_as_name_key",
    });
  });
});
