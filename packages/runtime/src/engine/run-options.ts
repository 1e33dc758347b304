// Deprecated: the engine takes src/spec's RunOptions now (see run-input.ts). This alias remains only
// until src/daemon/engine-run-options.ts passes parsed RunOptions straight to engine.run/create;
// delete this file then.
export type { LegacyRunInput as RunOptionsInput } from "./run-input.ts";
