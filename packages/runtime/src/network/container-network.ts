import { z } from "zod";
import type { RuntimeConfig } from "../config.ts";
import { RuntimeError } from "../errors.ts";
import { type AttachmentRecord, AttachmentStore } from "./attachment-store.ts";
import { bridgeList, ensureBridgeNetwork, removeBridgeNetwork } from "./bridge-network.ts";
import { renderLoopbackList } from "./cni/berth-conflist.ts";
import { sandboxAddress } from "./cni/cni-result.ts";
import {
  addNetworkList,
  assertPluginsSupportVersion,
  checkNetworkList,
  delNetworkList,
  type NetworkConfigList,
  type RuntimeConf,
} from "./cni/network-list.ts";
import { execPlugin, type PluginRunner } from "./cni/plugin-exec.ts";
import { assertContainerId, shortId } from "./container-id.ts";
import { type HostCommand, runHostCommand } from "./host-command.ts";
import { NetnsFiles, type NetnsRegistry } from "./netns.ts";
import {
  assertHostPortsFree,
  assertNoDuplicates,
  assertNotPublished,
  type PortMapping,
  portMappingSchema,
} from "./port-mappings.ts";

export const networkModeSchema = z.enum(["bridge", "none", "host"]);
export type NetworkMode = z.infer<typeof networkModeSchema>;

export const attachRequestSchema = z.object({
  containerId: z.string(),
  mode: networkModeSchema,
  portMappings: z.array(portMappingSchema).default([]),
});

export type AttachRequest = z.input<typeof attachRequestSchema>;

/** Where a container's network lives and how to reach it. */
export interface NetworkAttachment {
  containerId: string;
  mode: NetworkMode;
  /** The namespace file the container joins; null in host mode (it keeps the host's). */
  netnsPath: string | null;
  /** The container's IPv4 address on the bridge; null in none and host modes. */
  ip: string | null;
  prefixLength: number | null;
  gateway: string | null;
  mac: string | null;
  /** The container-side interface (eth0); null in none and host modes. */
  ifname: string | null;
  portMappings: PortMapping[];
}

/** Replaceable parts, for unit tests without root. */
export interface ContainerNetworkDeps {
  runPlugin?: PluginRunner;
  netns?: NetnsRegistry;
  hostCommand?: HostCommand;
}

const IFNAME = "eth0";

// portmap ≤ 1.1 (Debian 12) fails CHECK on IPv4-only attachments: it looks for an ip6tables chain
// it never created (containernetworking/plugins#819, fixed in 1.2). Its DEL is not affected.
const CHECK_SKIPS: ReadonlySet<string> = new Set(["portmap"]);

/**
 * Joins containers to Berth's network through the CNI plugins: bridge mode gets a namespace, a
 * veth on the bridge, an address, egress NAT and published ports; none mode a namespace with lo
 * only; host mode nothing. Every attach is recorded before it changes anything, so detach can
 * undo it — also after a partial attach or a restart of the process.
 */
export class ContainerNetwork {
  private readonly store: AttachmentStore;
  private readonly netns: NetnsRegistry;
  private readonly runPlugin: PluginRunner;
  private readonly hostCommand: HostCommand;
  private readonly checkedPlugins = new Set<string>();
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(
    private readonly config: RuntimeConfig,
    deps: ContainerNetworkDeps = {},
  ) {
    this.store = new AttachmentStore(config.runRoot);
    this.netns = deps.netns ?? new NetnsFiles(config.runRoot);
    this.runPlugin =
      deps.runPlugin ?? ((inv) => execPlugin({ pluginDir: config.cniPluginDir }, inv));
    this.hostCommand = deps.hostCommand ?? runHostCommand;
  }

  /** Gives the container its network; rolls back everything on failure. */
  async attach(request: AttachRequest): Promise<NetworkAttachment> {
    const req = parseRequest(request);
    if (req.mode === "host") return hostAttachment(req.containerId);
    return this.serialized(`container:${req.containerId}`, async () => {
      if (this.store.read(req.containerId)) {
        throw new RuntimeError(
          "CONFLICT",
          `the network of container ${shortId(req.containerId)} is already attached (or an attach was interrupted); detach it first`,
        );
      }
      const list = req.mode === "bridge" ? bridgeList(this.config) : renderLoopbackList();
      await this.preflight(list, req.mode);
      const record = await this.reserve(req, list);
      try {
        await this.netns.create(req.containerId);
        const result = await addNetworkList(this.runPlugin, list, runtimeConf(record));
        const attached: AttachmentRecord = { ...record, phase: "attached", result };
        const attachment = toAttachment(attached);
        if (req.mode === "bridge" && attachment.ip === null) {
          throw new RuntimeError(
            "NETWORK_FAILED",
            `CNI result for container ${shortId(req.containerId)} has no IPv4 address on ${IFNAME}`,
          );
        }
        this.store.save(attached);
        return attachment;
      } catch (e) {
        throw await this.rollback(record, e);
      }
    });
  }

  /** Undoes attach: DEL in reverse order, then the namespace and the record. Idempotent. */
  async detach(containerId: string): Promise<void> {
    assertContainerId(containerId);
    await this.serialized(`container:${containerId}`, async () => {
      const record = this.store.read(containerId);
      if (record) await this.teardown(record);
      else this.netns.remove(containerId);
    });
  }

  /** The recorded attachment of a container, or null (host mode is never recorded). */
  inspect(containerId: string): NetworkAttachment | null {
    const record = this.store.read(containerId);
    return record?.phase === "attached" ? toAttachment(record) : null;
  }

  /** Runs CNI CHECK: throws NETWORK_FAILED if the attachment is no longer as ADD left it. */
  async check(containerId: string): Promise<void> {
    const record = this.store.read(containerId);
    if (!record?.result || record.phase !== "attached") {
      throw new RuntimeError(
        "NOT_FOUND",
        `container ${shortId(containerId)} has no network attached`,
      );
    }
    await checkNetworkList(
      this.runPlugin,
      record.list,
      runtimeConf(record),
      record.result,
      CHECK_SKIPS,
    );
  }

  /** Deletes the bridge, its guard chain and lease directory; refuses while containers use it. */
  async removeBridge(): Promise<void> {
    const users = this.store.list().filter((r) => r.mode === "bridge");
    if (users.length > 0) {
      throw new RuntimeError(
        "INVALID_STATE",
        `bridge ${this.config.bridgeName} is still used by ${users.length} container(s), e.g. ${shortId(users[0]!.containerId)}`,
      );
    }
    await removeBridgeNetwork(this.config, this.hostCommand);
  }

  // Plugin versions are asked once per process; the guard is re-ensured on every attach because
  // someone may have flushed the host's firewall since (three iptables -C calls, ~25 ms).
  private async preflight(list: NetworkConfigList, mode: NetworkMode): Promise<void> {
    const key = list.plugins.map((p) => p.type).join(",");
    if (!this.checkedPlugins.has(key)) {
      await assertPluginsSupportVersion(this.runPlugin, list);
      this.checkedPlugins.add(key);
    }
    if (mode === "bridge") await ensureBridgeNetwork(this.config, this.hostCommand);
  }

  // Check and record under one lock, so two attaches in this process cannot both take a port.
  private reserve(
    req: z.infer<typeof attachRequestSchema>,
    list: NetworkConfigList,
  ): Promise<AttachmentRecord> {
    return this.serialized("ports", async () => {
      assertNoDuplicates(req.portMappings);
      assertNotPublished(req.portMappings, this.store.list());
      await assertHostPortsFree(req.portMappings);
      const record: AttachmentRecord = {
        version: 1,
        containerId: req.containerId,
        mode: req.mode === "bridge" ? "bridge" : "none",
        phase: "attaching",
        netnsPath: this.netns.pathOf(req.containerId),
        ifname: IFNAME,
        list,
        portMappings: req.portMappings,
      };
      this.store.save(record);
      return record;
    });
  }

  private async teardown(record: AttachmentRecord): Promise<void> {
    // A namespace that is gone (or never pinned) is passed as "", which the spec allows for DEL.
    const netns = this.netns.exists(record.containerId) ? record.netnsPath : "";
    await delNetworkList(
      this.runPlugin,
      record.list,
      { ...runtimeConf(record), netns },
      record.result,
    );
    this.netns.remove(record.containerId);
    this.store.remove(record.containerId);
  }

  private async rollback(record: AttachmentRecord, cause: unknown): Promise<unknown> {
    try {
      await this.teardown(record);
      return cause;
    } catch (undoError) {
      const message = cause instanceof Error ? cause.message : String(cause);
      const undo = undoError instanceof Error ? undoError.message : String(undoError);
      return new RuntimeError(
        cause instanceof RuntimeError ? cause.code : "NETWORK_FAILED",
        `${message}; undoing the partial attach also failed (detach retries it): ${undo}`,
        { containerId: record.containerId },
        { cause },
      );
    }
  }

  private async serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const tail = run.catch(() => {});
    this.locks.set(key, tail);
    try {
      return await run;
    } finally {
      if (this.locks.get(key) === tail) this.locks.delete(key);
    }
  }
}

function parseRequest(request: AttachRequest): z.infer<typeof attachRequestSchema> {
  const parsed = attachRequestSchema.safeParse(request);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `invalid network request at ${issue?.path.join(".") || "(root)"}: ${issue?.message}`,
    );
  }
  const req = parsed.data;
  assertContainerId(req.containerId);
  if (req.mode !== "bridge" && req.portMappings.length > 0) {
    throw new RuntimeError(
      "INVALID_ARGUMENT",
      `publishing ports needs --network bridge (this container uses --network ${req.mode})`,
    );
  }
  return req;
}

function runtimeConf(record: AttachmentRecord): RuntimeConf {
  return {
    containerId: record.containerId,
    netns: record.netnsPath,
    ifname: record.ifname,
    capabilityArgs: { portMappings: record.portMappings },
  };
}

function toAttachment(record: AttachmentRecord): NetworkAttachment {
  const address = record.result ? sandboxAddress(record.result, record.ifname) : null;
  return {
    containerId: record.containerId,
    mode: record.mode,
    netnsPath: record.netnsPath,
    ip: address?.ip ?? null,
    prefixLength: address?.prefixLength ?? null,
    gateway: address?.gateway ?? null,
    mac: address?.mac ?? null,
    ifname: address ? record.ifname : null,
    portMappings: record.portMappings,
  };
}

function hostAttachment(containerId: string): NetworkAttachment {
  return {
    containerId,
    mode: "host",
    netnsPath: null,
    ip: null,
    prefixLength: null,
    gateway: null,
    mac: null,
    ifname: null,
    portMappings: [],
  };
}
