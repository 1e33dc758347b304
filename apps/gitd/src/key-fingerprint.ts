import { createHash } from "node:crypto";

/** A public key's fingerprint as `ssh-keygen -lf` prints it: SHA256:<base64, unpadded>. */
export function keyFingerprint(keyBlob: Buffer): string {
  return `SHA256:${createHash("sha256").update(keyBlob).digest("base64").replace(/=+$/, "")}`;
}
