/**
 * The whole Berth data model. Tables are listed explicitly so the package boundary stays visible;
 * drizzle-kit reads this file to generate migrations (drizzle/).
 */
export {
  type Addon,
  type AddonAttachment,
  addonAttachments,
  addonState,
  addons,
  addonType,
  type NewAddon,
  type NewAddonAttachment,
} from "./addons.ts";
export {
  type App,
  apps,
  type Collaborator,
  type ConfigVar,
  collaborators,
  configVars,
  type Domain,
  domains,
  type NewApp,
  type NewCollaborator,
  type NewConfigVar,
  type NewDomain,
} from "./apps.ts";
export { type Build, buildStatus, builds, type NewBuild } from "./builds.ts";
export { type Event, events, type NewEvent } from "./events.ts";
export {
  type Dyno,
  dynoSize,
  dynoState,
  dynos,
  type Formation,
  formation,
  type NewDyno,
  type NewFormation,
} from "./formation.ts";
export {
  ADDON_NAME_PATTERN,
  APP_NAME_PATTERN,
  ATTACHMENT_NAME_PATTERN,
  COMMIT_SHA_PATTERN,
  CONFIG_KEY_PATTERN,
  HOSTNAME_PATTERN,
  PROCESS_TYPE_PATTERN,
} from "./patterns.ts";
export { type NewRelease, type Release, releases } from "./releases.ts";
export {
  type ApiToken,
  apiTokens,
  type NewApiToken,
  type NewSession,
  type NewSshKey,
  type NewUser,
  type Session,
  type SshKey,
  sessions,
  sshKeys,
  type User,
  userRole,
  users,
} from "./users.ts";
