import { RuntimeError } from "../errors.ts";

// The CNI spec's rule for CNI_CONTAINERID; it also keeps the ID safe as a file name under runRoot.
const CONTAINER_ID = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

/** Throws INVALID_ARGUMENT unless `id` is usable as a CNI container ID and a file name. */
export function assertContainerId(id: string): void {
  if (!CONTAINER_ID.test(id)) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `invalid container ID ${JSON.stringify(id)}: use letters, digits, '_', '.', '-'`,
    );
  }
}

/** The 12-character form people see in messages. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}
