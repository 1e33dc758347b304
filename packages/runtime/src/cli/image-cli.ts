import type { ContainerCliContext, ContainerVerb } from "./cli-context.ts";
import { imageLoadVerb, imageSaveVerb } from "./image-archive-verbs.ts";
import { imageImportVerb } from "./image-import-verb.ts";
import {
  imageHistoryVerb,
  imageInspectVerb,
  imageLsVerb,
  imagePruneVerb,
  imageRmVerb,
  imageTagVerb,
} from "./image-list-verbs.ts";
import { imageBootstrapVerb, imagePullVerb, imagePushVerb } from "./image-transfer-verbs.ts";
import { runVerbTable } from "./verb-table.ts";

const verbs: Record<string, ContainerVerb> = {
  ls: imageLsVerb,
  inspect: imageInspectVerb,
  history: imageHistoryVerb,
  tag: imageTagVerb,
  rm: imageRmVerb,
  prune: imagePruneVerb,
  pull: imagePullVerb,
  push: imagePushVerb,
  import: imageImportVerb,
  save: imageSaveVerb,
  load: imageLoadVerb,
  bootstrap: imageBootstrapVerb,
};

/** `berth image <verb>`: like Docker's image commands, every failure exits with 1. */
export function runImageCli(argv: string[], ctx: ContainerCliContext): Promise<number> {
  return runVerbTable("image", verbs, argv, ctx, () => 1);
}
