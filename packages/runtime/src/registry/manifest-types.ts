import { z } from "zod";

export const MediaType = {
  ociIndex: "application/vnd.oci.image.index.v1+json",
  ociManifest: "application/vnd.oci.image.manifest.v1+json",
  ociConfig: "application/vnd.oci.image.config.v1+json",
  ociLayerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  dockerList: "application/vnd.docker.distribution.manifest.list.v2+json",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
} as const;

/** Every manifest kind we ask for, in the order we prefer them. */
export const MANIFEST_ACCEPT = [
  MediaType.ociIndex,
  MediaType.ociManifest,
  MediaType.dockerList,
  MediaType.dockerManifest,
].join(", ");

export const digestSchema = z.string().regex(/^sha256:[a-f0-9]{64}$/, "expected sha256:<64 hex>");

export const platformSchema = z.object({
  os: z.string(),
  architecture: z.string(),
  variant: z.string().optional(),
});

export const descriptorSchema = z.object({
  mediaType: z.string(),
  digest: digestSchema,
  size: z.number().int().nonnegative(),
  platform: platformSchema.optional(),
  urls: z.array(z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
});
export type Descriptor = z.infer<typeof descriptorSchema>;
export type Platform = z.infer<typeof platformSchema>;

export const imageManifestSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema),
});
export type ImageManifest = z.infer<typeof imageManifestSchema>;

export const imageIndexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: z.string().optional(),
  manifests: z.array(descriptorSchema),
});
export type ImageIndex = z.infer<typeof imageIndexSchema>;

export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.ociIndex || mediaType === MediaType.dockerList;
}

export function isManifestMediaType(mediaType: string): boolean {
  return mediaType === MediaType.ociManifest || mediaType === MediaType.dockerManifest;
}

/**
 * The media type of manifest bytes: the Content-Type the registry sent if it is one we know, else
 * the JSON's own mediaType, else the OCI kind its shape says (OCI allows omitting mediaType).
 */
export function detectManifestMediaType(bytes: Buffer, contentType?: string | null): string {
  const header = contentType?.split(";")[0]?.trim();
  if (header && (isIndexMediaType(header) || isManifestMediaType(header))) return header;
  let json: { mediaType?: unknown; manifests?: unknown; config?: unknown; schemaVersion?: unknown };
  try {
    json = JSON.parse(bytes.toString("utf8"));
  } catch {
    return header ?? "application/octet-stream";
  }
  if (typeof json.mediaType === "string") return json.mediaType;
  if (Array.isArray(json.manifests)) return MediaType.ociIndex;
  if (json.config && json.schemaVersion === 2) return MediaType.ociManifest;
  return header ?? "application/octet-stream";
}
