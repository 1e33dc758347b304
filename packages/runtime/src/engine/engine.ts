import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { CgroupDriver } from "../cgroups/cgroup-driver.ts";
import { detectCgroupDriver } from "../cgroups/detect-cgroup-mode.ts";
import { type RuntimeConfigInput, resolveRuntimeConfig } from "../config.ts";
import { type ContainerPaths, containerPaths } from "../container/container-paths.ts";
import {
  type ContainerState,
  canRemove,
  canStart,
  canStop,
  type ExitReason,
  exitReason,
} from "../container/container-state.ts";
import { StateStore } from "../container/state-store.ts";
import { RuntimeError } from "../errors.ts";
import { ImageStore, type ResolvedImage } from "../image/image-store.ts";
import { ContainerNetwork } from "../network/container-network.ts";
import type { Syscalls } from "../sys/syscalls.ts";
import { hostSyscalls } from "../sys/syscalls-host.ts";
import { VolumeStore } from "../volume/volume-store.ts";
import { type CommitOptions, commitContainer } from "./commit-container.ts";
import { type ContainerStats, StatsSampler } from "./container-stats.ts";
import { createContainerFiles, type RunImage, readContainerSpec } from "./create-container.ts";
import { type ExecOptions, type ExecSession, execInContainer } from "./exec-container.ts";
import { containerExit, SIGNAL_NAMES } from "./exit-status.ts";
import { HealthMonitor, healthcheckFrom } from "./health-monitor.ts";
import { childPids, isSameProcessAlive, processStartTime, signalProcess } from "./host-process.ts";
import { LogFile, type LogLine, readLogs, StreamReader } from "./log-collector.ts";
import { type RunInput, toRunRequest } from "./run-input.ts";
import { openRunStdio, type RunAttachment, type RunStdio } from "./run-stdio.ts";
import { startContainer } from "./start-container.ts";
import { prepareVolumes, removeCreatedVolumes } from "./volume-mounts.ts";
import { removeOrphanZygoteGroups, zygoteGroup } from "./zygote-group.ts";
import { ZygotePool } from "./zygote-pool.ts";

export interface EngineOptions {
  /** Warm zygotes kept booted (each ~40 MiB until used). */
  poolSize?: number;
  /** The static busybox used as every container's init (Debian's busybox-static). */
  initBinary?: string;
  /** Injected in tests; detected from config.cgroupRoot otherwise. */
  cgroups?: CgroupDriver;
  sys?: Syscalls;
  /** Injected in tests; made from the config (bridge name, subnet, CNI plugins) otherwise. */
  network?: ContainerNetwork;
}

export interface ExitResult {
  exitCode: number;
  oomKilled: boolean;
  signal: string | null;
  /** "exited", "oom-killed" or "killed by SIGx" (see exitReason). */
  reason: ExitReason;
}

/** What the engine tracks for a container whose init is alive. */
interface Live {
  pid: number;
  readers: StreamReader[];
  log: LogFile;
  exited: Promise<ExitResult>;
  /** Set for containers this engine process started: their init is its child. */
  detach?: () => void;
}

export interface Engine {
  /** The host's image store (under config.root): what `run IMAGE` and the image verbs use. */
  readonly images: ImageStore;
  /** Creates and starts; resolves once the app is exec'd (or failed to be found: exit 127). */
  run(options: RunInput): Promise<ContainerState>;
  /** Creates the container's state and files (config.json) without starting it. */
  create(options: RunInput): Promise<ContainerState>;
  /** Starts a created or exited container. */
  start(idOrName: string): Promise<ContainerState>;
  /**
   * The stop signal (--stop-signal, else SIGTERM) to the app, SIGKILL to the whole container after
   * `timeoutSec` (else --stop-timeout, else 10).
   */
  stop(idOrName: string, timeoutSec?: number): Promise<ContainerState>;
  /** Sends a signal to the app (SIGKILL: to the whole container). */
  kill(idOrName: string, signal?: NodeJS.Signals): Promise<void>;
  /** Resolves with the exit once the container has exited (at once if it already has). */
  wait(idOrName: string): Promise<ExitResult>;
  list(options?: { all?: boolean }): ContainerState[];
  inspect(idOrName: string): ContainerState;
  logs(idOrName: string): LogLine[];
  /**
   * Deletes the container and all its files; `force` kills it first if it runs; `volumes` also
   * removes its anonymous volumes (docker rm -v).
   */
  remove(idOrName: string, options?: { force?: boolean; volumes?: boolean }): Promise<void>;
  /** The host's volumes (under config.root/volumes). */
  readonly volumes: VolumeStore;
  /** Volume name → IDs of the containers (running or not) that mount it. */
  volumesInUse(): Map<string, string[]>;
  /** The container's writable layer as a new image on top of its own (docker commit). */
  commit(idOrName: string, options: CommitOptions): Promise<ResolvedImage>;
  /** IDs of the images that containers (running or not) were created from: not to be removed. */
  imagesInUse(): Set<string>;
  /** Waits until the zygote pool has booted. */
  warm(): Promise<void>;
  /** Stops the pool and log readers; running containers keep running. */
  close(): Promise<void>;
  /** Runs a command inside the running container (docker exec); INVALID_STATE if it is not running. */
  exec(idOrName: string, options: ExecOptions): Promise<ExecSession>;
  /** CPU (from two samples), memory, pids and network use of a running container. */
  stats(idOrName: string): Promise<ContainerStats>;
  /**
   * The stdin (-i) and terminal (-t) of a container this engine process started with them;
   * INVALID_STATE for any other (its output is in the logs).
   */
  attach(idOrName: string): RunAttachment;
}

export async function createEngine(
  configInput: RuntimeConfigInput = {},
  options: EngineOptions = {},
): Promise<Engine> {
  const config = resolveRuntimeConfig(configInput);
  const sys = options.sys ?? hostSyscalls();
  const cgroups = options.cgroups ?? detectCgroupDriver(config);
  const initBinary = options.initBinary ?? "/bin/busybox";
  const store = new StateStore(`${config.root}/containers`);
  const images = ImageStore.forConfig(config, sys);
  const volumes = new VolumeStore(config.root);
  fs.mkdirSync(store.containersDir, { recursive: true, mode: 0o700 });
  fs.mkdirSync(`${config.runRoot}/containers`, { recursive: true, mode: 0o700 });
  const lastCap = Number(fs.readFileSync("/proc/sys/kernel/cap_last_cap", "utf8").trim());
  const network = options.network ?? new ContainerNetwork(config);
  // Before the pool makes groups of its own: a fresh zygote's group is empty until it is joined.
  await removeOrphanZygoteGroups(cgroups).catch((e: unknown) => {
    process.emitWarning(`removing orphaned zygote groups: ${(e as Error).message}`);
  });
  const pool = new ZygotePool(sys, options.poolSize ?? 2, {
    prepare: async (z) => {
      await cgroups.create(zygoteGroup(z.pid));
      await cgroups.addProcess(zygoteGroup(z.pid), z.pid);
    },
    release: (z) => cgroups.destroy(zygoteGroup(z.pid)),
  });

  let closed = false;
  const states = new Map<string, ContainerState>();
  const live = new Map<string, Live>();
  for (const s of store.loadAll()) states.set(s.id, s);

  const statsSampler = new StatsSampler(cgroups);
  const health = new HealthMonitor(async (id, args, timeoutMs) => {
    const session = await execIn(id, { args });
    let output = "";
    const keep = (chunk: Buffer | string) => {
      if (output.length < 4096) output += chunk.toString();
    };
    session.stdout.on("data", keep);
    session.stderr?.on("data", keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      session.kill("SIGKILL");
    }, timeoutMs);
    try {
      const exit = await session.wait();
      return { exitCode: timedOut ? -1 : exit.exitCode, output: output.slice(0, 4096) };
    } finally {
      clearTimeout(timer);
    }
  });

  async function execIn(idOrName: string, execOptions: ExecOptions): Promise<ExecSession> {
    const { s, pid } = runningInit(idOrName);
    const spec = readContainerSpec(containerPaths(config, s.id));
    const target = { id: s.id, name: s.name, initPid: pid, spec };
    return execInContainer(target, execOptions, { cgroups, sys, lastCap });
  }

  /** The state as callers see it: with the live health of a checked, running container. */
  function withHealth(s: ContainerState): ContainerState {
    const h = health.state(s.id);
    return h ? { ...s, health: h } : s;
  }
  /** -i / -t containers started by this process: their stdin and terminal. */
  const attachments = new Map<string, RunAttachment>();

  /** A running container and its init's host PID; INVALID_STATE "…is not running" otherwise. */
  function runningInit(idOrName: string): { s: ContainerState; pid: number } {
    const s = resolve(idOrName);
    const l = live.get(s.id);
    if (!l || !canStop(s) || !isSameProcessAlive(l.pid, s.pidStartTime)) {
      throw new RuntimeError("INVALID_STATE", `container ${s.name} is not running`, { id: s.id });
    }
    return { s, pid: l.pid };
  }

  function resolve(idOrName: string): ContainerState {
    const exact = states.get(idOrName);
    if (exact) return exact;
    const matches = [...states.values()].filter(
      (s) => s.name === idOrName || (idOrName.length >= 3 && s.id.startsWith(idOrName)),
    );
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) {
      throw new RuntimeError("CONFLICT", `more than one container matches ${idOrName}`, {
        idOrName,
      });
    }
    throw new RuntimeError("NOT_FOUND", `no such container: ${idOrName}`, { idOrName });
  }

  function save(s: ContainerState): void {
    states.set(s.id, s);
    store.saveLater(s);
  }

  function openStreams(paths: ContainerPaths, holdOpen: boolean) {
    const log = new LogFile(paths.log, config.logMaxBytes, config.logMaxFiles);
    const readers = [
      new StreamReader(paths.stdoutFifo, "stdout", log, holdOpen),
      new StreamReader(paths.stderrFifo, "stderr", log, holdOpen),
    ];
    return { log, readers };
  }

  /** Records the exit: status file first (written by the init), the wait status otherwise. */
  async function finishExit(
    id: string,
    how: { code: number | null; signal: string | null },
    l: Live | undefined,
  ): Promise<ExitResult> {
    if (closed) return { exitCode: -1, oomKilled: false, signal: null, reason: "exited" };
    health.unwatch(id);
    const paths = containerPaths(config, id);
    if (l) {
      // Drain what the app wrote before it died; a daemonised grandchild may hold stdout longer.
      await Promise.race([
        Promise.all(l.readers.map((r) => r.done)),
        new Promise((r) => setTimeout(r, 500)),
      ]);
      for (const r of l.readers) r.close();
      l.log.close();
    }
    const { exitCode, signal } = containerExit(paths.exitStatus, how);
    let oomKilled = false;
    try {
      // Each start gets a new group (a renamed zygote group, or with -m a fresh one), so any
      // kill the OOM killer counted there happened while this run's limit applied.
      oomKilled = (await cgroups.oomKillCount(id)) > 0;
    } catch {
      // the group may never have been created
    }
    await cgroups.destroy(id).catch(() => {});
    await network.detach(id).catch((e) => {
      process.emitWarning(`detaching the network of container ${id}: ${(e as Error).message}`);
    });
    live.delete(id);
    statsSampler.forget(id);
    const reason = exitReason(oomKilled, signal);
    const s = states.get(id);
    if (s) {
      save({
        ...s,
        status: "exited",
        pid: null,
        pidStartTime: null,
        exitCode,
        signal,
        oomKilled,
        exitReason: reason,
        network: null,
        finishedAt: new Date().toISOString(),
      });
      if (s.options.rm) await removeFiles(id, { volumes: true });
    }
    return { exitCode, oomKilled, signal, reason };
  }

  async function removeFiles(id: string, opts: { volumes?: boolean } = {}): Promise<void> {
    health.unwatch(id);
    const paths = containerPaths(config, id);
    const mounted = (states.get(id)?.options.volumes ?? []).filter((v) => v.type === "volume");
    await store.flush(id);
    await cgroups.destroy(id).catch(() => {});
    await network.detach(id);
    fs.rmSync(paths.runDir, { recursive: true, force: true });
    fs.rmSync(paths.dir, { recursive: true, force: true });
    states.delete(id);
    // --rm and rm -v: the container's anonymous volumes go with it (named ones stay, as Docker's).
    if (!opts.volumes) return;
    const stillUsed = volumesInUse();
    for (const v of mounted) {
      if (!volumes.exists(v.source) || stillUsed.has(v.source)) continue;
      if (volumes.inspect(v.source).Anonymous) volumes.remove(v.source);
    }
  }

  /** Volume name → the containers (running or not) that mount it. */
  function volumesInUse(): Map<string, string[]> {
    const used = new Map<string, string[]>();
    for (const s of states.values()) {
      for (const v of s.options.volumes) {
        if (v.type === "volume") used.set(v.source, [...(used.get(v.source) ?? []), s.id]);
      }
    }
    return used;
  }

  /** After an engine restart: follow containers still running, record those that exited. */
  function adopt(s: ContainerState): void {
    if (s.status !== "running" || s.pid === null) return;
    const id = s.id;
    if (!isSameProcessAlive(s.pid, s.pidStartTime)) {
      void finishExit(id, { code: null, signal: null }, undefined);
      return;
    }
    const paths = containerPaths(config, id);
    const { log, readers } = openStreams(paths, false);
    const pid = s.pid;
    const exited = new Promise<{ code: null; signal: null }>((res) => {
      // Not our child: we cannot waitpid; poll the process and its start time.
      const timer = setInterval(() => {
        if (!isSameProcessAlive(pid, s.pidStartTime)) {
          clearInterval(timer);
          res({ code: null, signal: null });
        }
      }, 100);
    });
    const l: Live = { pid, readers, log, exited: null as unknown as Promise<ExitResult> };
    l.exited = exited.then((how) => finishExit(id, how, l));
    live.set(id, l);
    if (s.healthcheck) health.watch(id, s.healthcheck, Date.parse(s.startedAt ?? "") || Date.now());
  }
  for (const s of states.values()) adopt(s);

  async function create(input: RunInput): Promise<ContainerState> {
    const request = toRunRequest(input);
    const image = request.options.image ? await runImage(request.options.image) : undefined;
    const healthcheck = healthcheckFrom(image?.config);
    const id = randomBytes(32).toString("hex");
    const name = request.options.name ?? `berth-${id.slice(0, 12)}`;
    if ([...states.values()].some((s) => s.name === name)) {
      throw new RuntimeError("CONFLICT", `the container name ${name} is already in use`, { name });
    }
    // Synchronous from the name check to the state being recorded: no second create can take it.
    const prepared = prepareVolumes({
      mounts: request.options.volumes,
      imageVolumes: Object.keys(image?.config.Volumes ?? {}),
      lowerDirs: image ? image.lowerDirs : [path.resolve(request.options.rootfs ?? "/nonexistent")],
      volumes,
      sys,
      scratch: `${config.runRoot}/containers/copy-up-${id}`,
    });
    let created: ReturnType<typeof createContainerFiles>;
    try {
      created = createContainerFiles({
        id,
        request: { options: { ...request.options, volumes: prepared.binds } },
        config,
        paths: containerPaths(config, id),
        sys,
        ...(image ? { image } : {}),
      });
    } catch (e) {
      removeCreatedVolumes(volumes, prepared.created);
      throw e;
    }
    const s: ContainerState = {
      id,
      name,
      status: "created",
      createdAt: new Date().toISOString(),
      startedAt: null,
      finishedAt: null,
      pid: null,
      pidStartTime: null,
      exitCode: null,
      signal: null,
      oomKilled: false,
      exitReason: null,
      error: null,
      network: null,
      options: { ...created.options, volumes: prepared.named },
      ...(image ? { imageId: image.id } : {}),
      ...(image?.config.ExposedPorts
        ? { exposedPorts: Object.keys(image.config.ExposedPorts) }
        : {}),
      ...(healthcheck ? { healthcheck } : {}),
    };
    save(s);
    return s;
  }

  /** The image's snapshots (unpacked now if missing) and run config, for `run IMAGE`. */
  async function runImage(name: string): Promise<RunImage> {
    try {
      const { id, lowerDirs, config: imageConfig } = await images.rootfsFor(name);
      return { name, id, lowerDirs, config: imageConfig };
    } catch (e) {
      if (e instanceof RuntimeError && e.code === "NOT_FOUND") {
        throw new RuntimeError(
          "NOT_FOUND",
          `image ${name} not found locally; pull it with 'berth image pull ${name}' or build it`,
          { image: name },
        );
      }
      throw e;
    }
  }

  async function start(idOrName: string): Promise<ContainerState> {
    const s = resolve(idOrName);
    if (!canStart(s)) {
      throw new RuntimeError("INVALID_STATE", `container ${s.name} is ${s.status}`, { id: s.id });
    }
    const paths = containerPaths(config, s.id);
    fs.rmSync(paths.exitStatus, { force: true });
    const { log, readers } = openStreams(paths, true);
    let result: Awaited<ReturnType<typeof startContainer>>;
    let stdio: RunStdio | null = null;
    try {
      const logLimits = { maxBytes: config.logMaxBytes, maxFiles: config.logMaxFiles };
      stdio = openRunStdio(sys, paths, logLimits, s.options);
      result = await startContainer({
        ...(stdio ? { stdio: stdio.host, console: stdio.console } : {}),
        id: s.id,
        spec: readContainerSpec(paths),
        options: s.options,
        paths,
        pool,
        cgroups,
        network,
        initBinary,
        lastCap,
      });
    } catch (e) {
      stdio?.close();
      for (const r of readers) r.close();
      log.close();
      save({ ...s, error: (e as Error).message });
      throw e;
    }
    for (const r of readers) r.release();
    const { zygote } = result;
    const pid = zygote.pid;
    const l: Live = {
      pid,
      readers,
      log,
      exited: null as unknown as Promise<ExitResult>,
      detach: () => zygote.detach(),
    };
    l.exited = zygote.exited.then((how) => finishExit(s.id, how, l));
    live.set(s.id, l);
    if (stdio) {
      const io = stdio;
      io.started();
      attachments.set(s.id, io.attachment);
      void zygote.exited.then(() => {
        io.exited();
        if (attachments.get(s.id) === io.attachment) attachments.delete(s.id);
      });
    }
    const running: ContainerState = {
      ...s,
      status: "running",
      pid,
      pidStartTime: processStartTime(pid),
      startedAt: new Date().toISOString(),
      finishedAt: null,
      exitCode: null,
      signal: null,
      oomKilled: false,
      exitReason: null,
      network: result.network,
      error: result.notFound ?? null,
    };
    // A container that already failed (command not found) goes straight to exited in finishExit.
    if (!result.notFound) save(running);
    else states.set(s.id, running);
    if (running.healthcheck && !result.notFound) health.watch(s.id, running.healthcheck);
    return running;
  }

  async function kill(idOrName: string, signal: NodeJS.Signals = "SIGKILL"): Promise<void> {
    const s = resolve(idOrName);
    const l = live.get(s.id);
    if (!l || !canStop(s)) {
      throw new RuntimeError("INVALID_STATE", `container ${s.name} is not running`, { id: s.id });
    }
    // SIGKILL to the init ends the PID namespace; other signals go to the app (the init's child):
    // a namespace's init ignores signals it has no handler for. Right after start the init may
    // not have forked the app yet: wait for it (briefly) rather than signal the init in vain.
    let app = childPids(l.pid)[0];
    for (let waited = 0; signal !== "SIGKILL" && app === undefined && waited < 1000; waited += 5) {
      if (!isSameProcessAlive(l.pid, s.pidStartTime)) break;
      await new Promise((r) => setTimeout(r, 5));
      app = childPids(l.pid)[0];
    }
    signalProcess(signal === "SIGKILL" ? l.pid : (app ?? l.pid), signal);
  }

  async function wait(idOrName: string): Promise<ExitResult> {
    const s = resolve(idOrName);
    const l = live.get(s.id);
    if (l) return l.exited;
    if (s.status === "exited") {
      return {
        exitCode: s.exitCode ?? 0,
        oomKilled: s.oomKilled,
        signal: s.signal,
        reason: s.exitReason ?? exitReason(s.oomKilled, s.signal),
      };
    }
    throw new RuntimeError("INVALID_STATE", `container ${s.name} has not been started`, {
      id: s.id,
    });
  }

  async function stop(idOrName: string, timeoutSec?: number): Promise<ContainerState> {
    const s = resolve(idOrName);
    const l = live.get(s.id);
    if (!l) return s;
    const stopSignal = (s.options.stopSignal && SIGNAL_NAMES[s.options.stopSignal]) || "SIGTERM";
    await kill(s.id, stopSignal as NodeJS.Signals);
    const timeoutMs = (timeoutSec ?? s.options.stopTimeout ?? 10) * 1000;
    const timedOut = await Promise.race([
      l.exited.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), timeoutMs).unref()),
    ]);
    if (timedOut) signalProcess(l.pid, "SIGKILL");
    await l.exited;
    return resolve(s.id);
  }

  async function remove(
    idOrName: string,
    opts: { force?: boolean; volumes?: boolean } = {},
  ): Promise<void> {
    const s = resolve(idOrName);
    if (!canRemove(s, opts.force ?? false)) {
      throw new RuntimeError(
        "INVALID_STATE",
        `container ${s.name} is running: stop it or use force`,
        {
          id: s.id,
        },
      );
    }
    const l = live.get(s.id);
    if (l) {
      signalProcess(l.pid, "SIGKILL");
      await l.exited;
    }
    await removeFiles(s.id, { volumes: opts.volumes ?? false });
  }

  return {
    images,
    volumes,
    volumesInUse,
    async commit(idOrName, options) {
      const state = resolve(idOrName);
      return commitContainer({
        state,
        paths: containerPaths(config, state.id),
        images,
        cgroups,
        sys,
        options,
      });
    },
    imagesInUse() {
      return new Set([...states.values()].flatMap((s) => (s.imageId ? [s.imageId] : [])));
    },
    async run(input) {
      const s = await create(input);
      try {
        return await start(s.id);
      } catch (e) {
        // The start's own rollback has undone its part; the original error is what to report.
        await removeFiles(s.id).catch((undo) => {
          process.emitWarning(`removing container ${s.id} after a failed start: ${undo}`);
        });
        throw e;
      }
    },
    create,
    start,
    stop,
    kill,
    wait,
    list: ({ all = false } = {}) =>
      [...states.values()].filter((s) => all || s.status === "running").map(withHealth),
    inspect: (idOrName) => withHealth(resolve(idOrName)),
    logs: (idOrName) =>
      readLogs(containerPaths(config, resolve(idOrName).id).log, config.logMaxFiles),
    remove,
    warm: () => pool.warm(),
    exec: execIn,
    attach(idOrName) {
      const s = resolve(idOrName);
      const a = attachments.get(s.id);
      if (!a) {
        throw new RuntimeError(
          "INVALID_STATE",
          `container ${s.name} is not running with -i or -t started by this engine`,
          { id: s.id },
        );
      }
      return a;
    },
    async stats(idOrName) {
      const { s, pid } = runningInit(idOrName);
      return statsSampler.sample(s.id, s.name, pid);
    },
    async close() {
      closed = true;
      health.close();
      await pool.close();
      await removeOrphanZygoteGroups(cgroups).catch(() => []);
      await store.flush();
      if (live.size === 0) await cgroups.destroyParentIfEmpty().catch(() => false);
      for (const l of live.values()) {
        for (const r of l.readers) r.close();
        l.detach?.();
      }
    },
  };
}
