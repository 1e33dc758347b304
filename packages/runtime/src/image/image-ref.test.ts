import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ContentStore } from "./content-store.ts";
import { looksLikeId, normalizeTag, parseImageRef } from "./image-ref.ts";
import { chainIDs } from "./snapshots.ts";

describe("image references", () => {
  it("normalises tags and parses registries, ports and digests", () => {
    expect(normalizeTag("busybox")).toBe("busybox:latest");
    expect(normalizeTag("localhost:5000/team/app:v1.2")).toBe("localhost:5000/team/app:v1.2");
    const d = `sha256:${"a".repeat(64)}`;
    expect(parseImageRef(`app@${d}`)).toEqual({ name: "app", digest: d });
    expect(() => normalizeTag("UPPER")).toThrow(/invalid image reference/);
    expect(() => normalizeTag("a:b:c")).toThrow(/invalid image reference/);
    expect(() => normalizeTag(`app@${d}`)).toThrow(/digest reference/);
    expect(looksLikeId("sha256:abcd")).toBe(true);
    expect(looksLikeId("busybox")).toBe(false);
  });

  it("computes chainIDs as the OCI config spec defines them", () => {
    const a = `sha256:${"1".repeat(64)}`;
    const b = `sha256:${"2".repeat(64)}`;
    const [c0, c1] = chainIDs([a, b]);
    expect(c0).toBe(a);
    // sha256("sha256:111… sha256:222…")
    expect(c1).toMatch(/^sha256:[a-f0-9]{64}$/);
    expect(c1).not.toBe(b);
  });
});

describe("content store index lock", () => {
  it("serialises concurrent index updates and takes over a dead holder's lock", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-cs-"));
    try {
      const cs = new ContentStore(dir);
      fs.writeFileSync(path.join(dir, "index.lock"), "999999999"); // no such pid
      const blob = await cs.putBlobBytes("{}");
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          cs.updateIndex((idx) => {
            idx.manifests.push({
              mediaType: "application/vnd.oci.image.manifest.v1+json",
              digest: blob.digest,
              size: blob.size,
              annotations: { "org.opencontainers.image.ref.name": `t:${i}` },
            });
          }),
        ),
      );
      expect(cs.readIndex().manifests).toHaveLength(10);
      expect(fs.existsSync(path.join(dir, "index.lock"))).toBe(false);
      expect(JSON.parse(fs.readFileSync(path.join(dir, "oci-layout"), "utf8"))).toEqual({
        imageLayoutVersion: "1.0.0",
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
