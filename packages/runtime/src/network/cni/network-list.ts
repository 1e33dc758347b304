import { z } from "zod";
import { RuntimeError } from "../../errors.ts";
import { type CniResult, cniVersionInfoSchema } from "./cni-result.ts";
import { type PluginInvocation, type PluginRunner, parseResult } from "./plugin-exec.ts";

/** A network configuration list (spec "Configuration format"), as rendered or stored. */
export const networkConfigListSchema = z.object({
  cniVersion: z.string(),
  name: z.string().min(1),
  plugins: z
    .array(
      z.looseObject({
        type: z.string().min(1),
        capabilities: z.record(z.string(), z.boolean()).optional(),
      }),
    )
    .min(1),
});

export type NetworkConfigList = z.infer<typeof networkConfigListSchema>;
export type PluginConfig = NetworkConfigList["plugins"][number];

/** The per-attachment parameters of a list operation (libcni's RuntimeConf). */
export interface RuntimeConf {
  containerId: string;
  netns: string;
  ifname: string;
  args?: Record<string, string>;
  /** Values for plugin capabilities (e.g. portMappings), passed as runtimeConfig to plugins that declare them. */
  capabilityArgs?: Record<string, unknown>;
}

/**
 * ADD runs the plugins in order, each getting the previous plugin's result as prevResult, and
 * returns the last result (spec "Adding an attachment"). The caller must DEL the whole list on
 * failure: plugins before the failing one have already changed the system.
 */
export async function addNetworkList(
  run: PluginRunner,
  list: NetworkConfigList,
  rt: RuntimeConf,
): Promise<CniResult> {
  let prevResult: CniResult | undefined;
  for (const plugin of list.plugins) {
    const inv = invocation("ADD", list, plugin, rt, prevResult);
    prevResult = parseResult(inv, await run(inv));
  }
  return prevResult!;
}

/**
 * DEL runs the plugins in reverse order, each with the cached ADD result as prevResult when there
 * is one (spec "Deleting an attachment"). Every plugin runs even if one fails — a DEL that stops
 * early leaks what the later plugins own — and the first failure is thrown at the end.
 */
export async function delNetworkList(
  run: PluginRunner,
  list: NetworkConfigList,
  rt: RuntimeConf,
  cachedResult?: CniResult,
): Promise<void> {
  let firstError: unknown;
  for (const plugin of [...list.plugins].reverse()) {
    try {
      await run(invocation("DEL", list, plugin, rt, cachedResult));
    } catch (e) {
      firstError ??= e;
    }
  }
  if (firstError !== undefined) throw firstError;
}

/**
 * CHECK asks every plugin whether the attachment is still as ADD left it; throws if not. Plugins
 * in `skip` are not asked (for plugin versions whose CHECK is known to be wrong).
 */
export async function checkNetworkList(
  run: PluginRunner,
  list: NetworkConfigList,
  rt: RuntimeConf,
  cachedResult: CniResult,
  skip: ReadonlySet<string> = new Set(),
): Promise<void> {
  for (const plugin of list.plugins.filter((p) => !skip.has(p.type))) {
    await run(invocation("CHECK", list, plugin, rt, cachedResult));
  }
}

/** Asks each plugin of the list for its supported versions; throws unless all speak ours. */
export async function assertPluginsSupportVersion(
  run: PluginRunner,
  list: NetworkConfigList,
): Promise<void> {
  for (const plugin of list.plugins) {
    const reply = cniVersionInfoSchema.safeParse(
      await run({
        type: plugin.type,
        command: "VERSION",
        containerId: "version-probe",
        netns: "",
        ifname: "",
        config: { cniVersion: list.cniVersion },
      }),
    );
    if (!reply.success || !reply.data.supportedVersions.includes(list.cniVersion)) {
      const supported = reply.success ? reply.data.supportedVersions.join(", ") : "unknown";
      throw new RuntimeError(
        "NETWORK_FAILED",
        `CNI plugin ${plugin.type} does not support CNI ${list.cniVersion} (it supports: ${supported}); install containernetworking-plugins ≥ 1.0`,
        { plugin: plugin.type },
      );
    }
  }
}

/**
 * The stdin config of one plugin in a list: the list's name and cniVersion, the plugin's own keys,
 * prevResult, and runtimeConfig holding only the capabilities the plugin declares (as libcni does).
 */
export function pluginConfig(
  list: NetworkConfigList,
  plugin: PluginConfig,
  rt: RuntimeConf,
  prevResult?: CniResult,
): Record<string, unknown> {
  const config: Record<string, unknown> = {
    ...plugin,
    cniVersion: list.cniVersion,
    name: list.name,
  };
  const runtimeConfig: Record<string, unknown> = {};
  for (const [capability, enabled] of Object.entries(plugin.capabilities ?? {})) {
    const value = rt.capabilityArgs?.[capability];
    if (enabled && value !== undefined) runtimeConfig[capability] = value;
  }
  if (Object.keys(runtimeConfig).length > 0) config.runtimeConfig = runtimeConfig;
  if (prevResult) config.prevResult = prevResult;
  return config;
}

function invocation(
  command: "ADD" | "DEL" | "CHECK",
  list: NetworkConfigList,
  plugin: PluginConfig,
  rt: RuntimeConf,
  prevResult: CniResult | undefined,
): PluginInvocation {
  return {
    type: plugin.type,
    command,
    containerId: rt.containerId,
    netns: rt.netns,
    ifname: rt.ifname,
    ...(rt.args ? { args: rt.args } : {}),
    config: pluginConfig(list, plugin, rt, prevResult),
  };
}
