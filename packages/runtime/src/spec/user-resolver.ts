import { RuntimeError } from "../errors.ts";
import { type LayeredRoot, readLayeredFile, readRootfsFile } from "./rootfs-path.ts";
import type { IdOrName, UserSpec } from "./user-spec.ts";

/** The numeric identity the container's process runs as. */
export interface ResolvedUser {
  uid: number;
  gid: number;
  /** Supplementary groups: those of /etc/group listing the user, when no group was given. */
  additionalGids: number[];
  /** From /etc/passwd; `/` when the user has no entry. */
  home: string;
  /** The passwd entry's name, when there is one. */
  name?: string;
}

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

/**
 * Resolves `-u` against the rootfs's /etc/passwd and /etc/group, read without following symlinks
 * out of the rootfs. As runc does: a name must exist; a numeric UID may be absent (GID 0, home /);
 * the passwd entry gives the primary group unless one is given; supplementary groups come from
 * /etc/group only when the group is implicit. No spec means root.
 */
export function resolveUser(
  rootfs: string | LayeredRoot,
  spec: UserSpec = { user: { id: 0 } },
): ResolvedUser {
  // A directory, or an image's layer snapshots (topmost first) merged as overlayfs would.
  const read = (file: string) =>
    typeof rootfs === "string" ? readRootfsFile(rootfs, file) : readLayeredFile(rootfs, file);
  const passwd = parsePasswd(read("/etc/passwd"));
  const entry =
    "id" in spec.user
      ? passwd.find((p) => p.uid === (spec.user as { id: number }).id)
      : passwd.find((p) => p.name === (spec.user as { name: string }).name);
  if (!entry && "name" in spec.user) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `unable to find user ${spec.user.name}: no matching entry in the container's /etc/passwd`,
    );
  }
  const uid = entry?.uid ?? (spec.user as { id: number }).id;
  const user: ResolvedUser = {
    uid,
    gid: entry?.gid ?? 0,
    additionalGids: [],
    home: entry?.home || "/",
    ...(entry ? { name: entry.name } : {}),
  };

  const needGroups = spec.group !== undefined || entry !== undefined;
  const groups = needGroups ? parseGroup(read("/etc/group")) : [];
  if (spec.group) {
    user.gid = groupId(spec.group, groups);
  } else if (entry) {
    const gids = groups.filter((g) => g.members.includes(entry.name)).map((g) => g.gid);
    user.additionalGids = [...new Set(gids)];
  }
  return user;
}

function groupId(group: IdOrName, groups: GroupEntry[]): number {
  if ("id" in group) return group.id;
  const found = groups.find((g) => g.name === group.name);
  if (!found) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `unable to find group ${group.name}: no matching entry in the container's /etc/group`,
    );
  }
  return found.gid;
}

const id = (text: string | undefined) =>
  text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;

/** name:password:uid:gid:gecos:home:shell lines; malformed lines are skipped, as libc does. */
export function parsePasswd(content: string | undefined): PasswdEntry[] {
  const entries: PasswdEntry[] = [];
  for (const line of (content ?? "").split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const f = line.split(":");
    const uid = id(f[2]);
    const gid = id(f[3]);
    if (!f[0] || uid === undefined || gid === undefined) continue;
    entries.push({ name: f[0], uid, gid, home: f[5] ?? "" });
  }
  return entries;
}

/** name:password:gid:member,member lines. */
export function parseGroup(content: string | undefined): GroupEntry[] {
  const entries: GroupEntry[] = [];
  for (const line of (content ?? "").split("\n")) {
    if (line.trim() === "" || line.startsWith("#")) continue;
    const f = line.split(":");
    const gid = id(f[2]);
    if (!f[0] || gid === undefined) continue;
    const members = (f[3] ?? "")
      .split(",")
      .map((m) => m.trim())
      .filter(Boolean);
    entries.push({ name: f[0], gid, members });
  }
  return entries;
}
