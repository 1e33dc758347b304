import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { hostSyscalls } from "@berth/runtime/host-syscalls";
import { parseImageReference } from "@berth/runtime/image-reference";
import { ImageStore } from "@berth/runtime/image-store";
import { BlobLocations, pullImage, pushImage } from "@berth/runtime/image-transfer";
import { RegistryClient } from "@berth/runtime/registry";
import { StoreTransfer } from "@berth/runtime/store-transfer";
import { buildTar } from "@berth/runtime/tar-writer";
import { startTestRegistry } from "@berth/runtime/test-registry";
import { type Benchmark, type Comparison, median, timeMs } from "../harness.ts";

const run = promisify(execFile);
const ROUNDS = 3;
const LAYERS = 4;
const FILES_PER_LAYER = 25;
const FILE_BYTES = 1024 * 1024;

/**
 * Issue 4's figures, each beside skopeo (or GNU tar, or a plain copy) in the same run:
 * push and pull of a 4-layer, 100 MiB image with a local CNCF registry; unpacking its layers;
 * and the disk two images sharing that base take.
 */
export const benchmark: Benchmark = {
  name: "image-transfer",
  async skipReason() {
    if (process.getuid?.() !== 0) return "needs root (layer unpacking keeps owners)";
    for (const bin of ["/usr/bin/docker-registry", "/usr/bin/skopeo"]) {
      if (!fs.existsSync(bin)) return `${bin} is not installed`;
    }
    return undefined;
  },
  async run(log) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-bench-images-"));
    const registry = await startTestRegistry(path.join(dir, "registry"));
    try {
      const sys = hostSyscalls();
      const source = new ImageStore({ root: path.join(dir, "source"), sys });
      log(
        `making a ${LAYERS}-layer image of ${(LAYERS * FILES_PER_LAYER * FILE_BYTES) / 2 ** 20} MiB (random data)`,
      );
      let image: Awaited<ReturnType<ImageStore["appendLayer"]>> | undefined;
      for (let l = 0; l < LAYERS; l++) {
        const entries = Array.from({ length: FILES_PER_LAYER }, (_, i) => ({
          name: `layer${l}/file${i}`,
          type: "file" as const,
          mode: 0o644,
          body: randomBytes(FILE_BYTES),
        }));
        const tar = buildTar([{ name: `layer${l}/`, type: "dir", mode: 0o755 }, ...entries]);
        image = await source.appendLayer(image, [tar], {
          tag: "bench/big:1",
          config: {},
          createdBy: "bench",
        });
      }
      const img = image as NonNullable<typeof image>;
      const skopeoDir = writeSkopeoDir(source, img.manifestDigest, path.join(dir, "skopeo-src"));
      const client = new RegistryClient();
      const transfer = new StoreTransfer(source);
      // What the daemon keeps for its lifetime: where blobs already are, so pushes mount them
      // across repositories instead of uploading (skopeo keeps the same in its blob-info cache).
      const locations = new BlobLocations();

      const pushOurs: number[] = [];
      const pushPeer: number[] = [];
      const pullOurs: number[] = [];
      const pullPeer: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const ours = parseImageReference(`${registry.host}/ours${r}/big:1`);
        pushOurs.push(
          await timeMs(() => pushImage(client, ours, transfer, img.manifestDigest, { locations })),
        );
        pushPeer.push(
          await timeMs(() =>
            run("skopeo", [
              "copy",
              "-q",
              "--dest-tls-verify=false",
              `dir:${skopeoDir}`,
              `docker://${registry.host}/peer${r}/big:1`,
            ]),
          ),
        );
        const into = new ImageStore({ root: path.join(dir, `pulled-${r}`), sys });
        pullOurs.push(await timeMs(() => pullImage(client, ours, new StoreTransfer(into))));
        const peerOut = path.join(dir, `skopeo-pulled-${r}`);
        pullPeer.push(
          await timeMs(() =>
            run("skopeo", [
              "copy",
              "-q",
              "--src-tls-verify=false",
              `docker://${registry.host}/peer${r}/big:1`,
              `dir:${peerOut}`,
            ]),
          ),
        );
        log(
          `round ${r + 1}: push ${pushOurs.at(-1)?.toFixed(0)} vs ${pushPeer.at(-1)?.toFixed(0)} ms, pull ${pullOurs.at(-1)?.toFixed(0)} vs ${pullPeer.at(-1)?.toFixed(0)} ms`,
        );
      }

      // Unpacking: the store's layer application vs GNU tar -xzf of the same gzip blobs.
      const unpackOurs: number[] = [];
      const unpackPeer: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        const store = new ImageStore({ root: path.join(dir, `pulled-${r}`), sys });
        const pulled = store.resolve(`${registry.host}/ours${r}/big:1`);
        unpackOurs.push(await timeMs(() => store.ensureSnapshots(pulled)));
        const out = path.join(dir, `tar-${r}`);
        fs.mkdirSync(out);
        unpackPeer.push(
          await timeMs(async () => {
            for (const layer of pulled.manifest.layers) {
              await run("tar", ["-xzf", source.content.blobPath(layer.digest), "-C", out]);
            }
          }),
        );
      }

      // Disk: a second image on the same base shares its snapshots; skopeo's dir: copies do not.
      const small = buildTar([{ name: "extra", type: "file", mode: 0o644, body: "x" }]);
      const store0 = new ImageStore({ root: path.join(dir, "pulled-0"), sys });
      const base0 = store0.resolve(`${registry.host}/ours0/big:1`);
      await store0.ensureSnapshots(
        await store0.appendLayer(base0, [small], { tag: "bench/a:1", config: {}, createdBy: "a" }),
      );
      await store0.ensureSnapshots(
        await store0.appendLayer(base0, [small.subarray(0)], {
          tag: "bench/b:1",
          config: {},
          createdBy: "b",
        }),
      );
      const oursDisk = await diskMiB(path.join(dir, "pulled-0", "images", "snapshots"));
      const peerDisk = 2 * (await diskMiB(path.join(dir, "tar-0")));

      const mib = (LAYERS * FILES_PER_LAYER * FILE_BYTES) / 2 ** 20;
      const rows: Comparison[] = [
        {
          metric: `push ${mib} MiB, ${LAYERS} layers`,
          unit: "ms",
          ours: median(pushOurs),
          peer: median(pushPeer),
          peerName: "skopeo copy dir: → docker://",
        },
        {
          metric: `pull ${mib} MiB, ${LAYERS} layers (transfer)`,
          unit: "ms",
          ours: median(pullOurs),
          peer: median(pullPeer),
          peerName: "skopeo copy docker:// → dir:",
        },
        {
          metric: `unpack ${mib} MiB of gzip layers`,
          unit: "ms",
          ours: median(unpackOurs),
          peer: median(unpackPeer),
          peerName: "GNU tar -xzf",
          note: `${(mib / (median(unpackOurs) / 1000)).toFixed(0)} MiB/s ours`,
        },
        {
          metric: "disk: 2 images sharing the base, unpacked",
          unit: "MiB",
          ours: oursDisk,
          peer: peerDisk,
          peerName: "two unpacked copies",
        },
      ];
      return rows;
    } finally {
      await registry.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** skopeo's `dir:` layout of a stored image: manifest.json plus blobs by hex name (hard links). */
function writeSkopeoDir(store: ImageStore, manifestDigest: string, out: string): string {
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, "version"), "Directory Transport Version: 1.1\n");
  const manifest = store.content.readBlob(manifestDigest);
  fs.writeFileSync(path.join(out, "manifest.json"), manifest);
  const parsed = JSON.parse(manifest.toString()) as {
    config: { digest: string };
    layers: { digest: string }[];
  };
  for (const d of [parsed.config, ...parsed.layers]) {
    fs.linkSync(store.content.blobPath(d.digest), path.join(out, d.digest.slice(7)));
  }
  return out;
}

async function diskMiB(dir: string): Promise<number> {
  const { stdout } = await run("du", ["-sk", dir]);
  return Number(stdout.split("\t")[0]) / 1024;
}
