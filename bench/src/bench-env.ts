import { fileURLToPath } from "node:url";

/** The repository root, where `./berth` lives. */
export const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
