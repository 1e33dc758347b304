import fs from "node:fs";
import type http from "node:http";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveRuntimeConfig } from "../config.ts";
import type { ContainerState } from "../container/container-state.ts";
import type { Engine } from "../engine/engine.ts";
import { RuntimeError } from "../errors.ts";
import { EngineClient } from "./engine-client.ts";
import { createEngineServer } from "./engine-server.ts";

const running = { id: "a".repeat(64), name: "web", status: "running" } as ContainerState;

/** Only what these tests call; anything else would be a bug in the server. */
const fakeEngine = {
  list: ({ all = false } = {}) => (all ? [running, { ...running, id: "b".repeat(64) }] : [running]),
  inspect: (ref: string) => {
    if (ref === "web" || running.id.startsWith(ref)) return running;
    throw new RuntimeError("NOT_FOUND", `no such container: ${ref}`);
  },
  kill: async () => {},
  stop: async () => {
    throw new RuntimeError("INVALID_STATE", "container web is not running");
  },
} as unknown as Engine;

let dir: string;
let server: http.Server;
let client: EngineClient;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-server-"));
  const config = resolveRuntimeConfig({ root: `${dir}/lib`, runRoot: dir });
  server = createEngineServer(fakeEngine, config);
  await new Promise<void>((r) => server.listen(path.join(dir, "engine.sock"), r));
  client = new EngineClient(path.join(dir, "engine.sock"));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  fs.rmSync(dir, { recursive: true, force: true });
});

describe("engine daemon API", () => {
  it("answers ping, ps and inspect", async () => {
    expect((await client.ping()).pid).toBe(process.pid);
    expect(await client.list()).toHaveLength(1);
    expect(await client.list(true)).toHaveLength(2);
    expect((await client.inspect("web")).id).toBe(running.id);
  });

  it("maps engine errors to status + {code, message}, rebuilt as RuntimeError by the client", async () => {
    await expect(client.inspect("nope")).rejects.toMatchObject({
      code: "NOT_FOUND",
      message: "no such container: nope",
    });
    await expect(client.stop("web")).rejects.toMatchObject({ code: "INVALID_STATE" });
  });

  it("validates input before calling the engine", async () => {
    await expect(client.kill("web", "SIGNOPE")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: "unknown signal SIGNOPE",
    });
    await expect(
      client.json("POST", "/v1/containers", { options: { rootfs: "/x", memory: "lots" } }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringMatching(/^options\./),
    });
    await expect(client.json("POST", "/v1/containers/web/stop?t=soon")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(client.json("GET", "/v1/nothing")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });
});
