/**
 * Formats that the database enforces with CHECK constraints. The platform validates input with
 * these same expressions (zod `.regex(...)`), so a bad value gets a friendly error before it
 * reaches Postgres, and the CHECK catches whatever slips past.
 */

/** App names are DNS labels in `<app>.<domain>`: lowercase, 2–30 characters, no leading digit or trailing hyphen. */
export const APP_NAME_PATTERN = /^[a-z][a-z0-9-]{0,28}[a-z0-9]$/;

/** Config var keys become environment variable names. */
export const CONFIG_KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Procfile process types (`web`, `worker`, `release`), which also name dynos such as `web.1`. */
export const PROCESS_TYPE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,29}$/;

/** Custom domains: lowercase DNS names, optionally with one leading wildcard label. */
export const HOSTNAME_PATTERN =
  /^(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+$/;

/** Add-on names (`postgres-curved-12345`): like app names but up to 63 characters. */
export const ADDON_NAME_PATTERN = /^[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/** Attachment names are config var prefixes: `DATABASE` gives `DATABASE_URL`. */
export const ATTACHMENT_NAME_PATTERN = /^[A-Z][A-Z0-9_]*$/;

/** Git commit ids: SHA-1 (40 hex digits) or SHA-256 (64). */
export const COMMIT_SHA_PATTERN = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
