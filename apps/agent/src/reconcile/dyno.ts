import { z } from "zod";

/** One container the platform wants running: `web.2` of release v7 of `shop`. */
export const desiredDynoSchema = z.object({
  app: z.string().min(1),
  type: z.string().min(1),
  index: z.number().int().positive(),
  release: z.number().int().positive(),
  image: z.string().min(1),
  /** Null: the image's own command. */
  command: z.array(z.string()).nullable(),
  env: z.record(z.string(), z.string()),
  memoryBytes: z.number().int().positive(),
  cpus: z.number().positive(),
});
export type DesiredDyno = z.infer<typeof desiredDynoSchema>;

/** What the engine reports for a container the agent made (identified by its labels). */
export interface ObservedDyno {
  containerId: string;
  app: string;
  type: string;
  index: number;
  release: number;
  status: "created" | "running" | "exited";
  /** Web dynos: passed the boot check (listening on $PORT). Others: true once running. */
  healthy: boolean;
  exitCode: number | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/** `shop/web.2`: a dyno slot, which outlives the containers that fill it across releases. */
export function slotOf(d: { app: string; type: string; index: number }): string {
  return `${d.app}/${d.type}.${d.index}`;
}

/** `web.2`, as Heroku names dynos (and as DYNO is set in the container). */
export function dynoName(d: { type: string; index: number }): string {
  return `${d.type}.${d.index}`;
}
