/** Docker's rule for volume names: what `-v NAME:/path` and `volume create NAME` accept. */
export const VOLUME_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
