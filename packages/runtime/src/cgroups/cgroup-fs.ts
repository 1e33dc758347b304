import * as fs from "node:fs";

export interface CgroupDirEntry {
  name: string;
  isDirectory: boolean;
}

/**
 * The drivers' only access to the cgroup filesystem, so that unit tests can run them against a
 * scratch directory (see scratch-cgroup-fs.ts). Methods throw Node-style errors carrying `code`
 * (EBUSY, ENOENT, …); the drivers turn those into RuntimeErrors naming the file and value.
 */
export interface CgroupFs {
  /** Reads a whole interface file as text. */
  readFile(path: string): string;
  /** Writes to an existing interface file in one write(2); never creates the file. */
  writeFile(path: string, data: string): void;
  /** Creates one directory level (a new cgroup); throws EEXIST if it exists. */
  mkdir(path: string): void;
  /** Removes an empty cgroup directory. */
  rmdir(path: string): void;
  /** Renames a cgroup directory within its parent (rename(2); its processes stay in it). */
  rename(path: string, newPath: string): void;
  /** Whether the path exists. */
  exists(path: string): boolean;
  /** Lists a directory's entries. */
  readdir(path: string): CgroupDirEntry[];
  /** Resolves symbolic links (co-mounted v1 hierarchies such as cpu -> cpu,cpuacct). */
  realpath(path: string): string;
}

/**
 * The real filesystem. Synchronous on purpose: cgroupfs operations are tiny, and libuv's thread
 * pool threads may sit in other mount namespaces than the calling thread (MACHINE-NOTES.md).
 */
export class NodeCgroupFs implements CgroupFs {
  readFile(path: string): string {
    return fs.readFileSync(path, "utf8");
  }

  writeFile(path: string, data: string): void {
    // Like runc's cgroups.WriteFile: O_WRONLY|O_TRUNC without O_CREAT, one write call, because
    // cgroupfs parses each write(2) as one value and a missing file means a missing controller.
    const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
    try {
      fs.writeSync(fd, data);
    } finally {
      fs.closeSync(fd);
    }
  }

  mkdir(path: string): void {
    fs.mkdirSync(path);
  }

  rmdir(path: string): void {
    fs.rmdirSync(path);
  }

  rename(path: string, newPath: string): void {
    fs.renameSync(path, newPath);
  }

  exists(path: string): boolean {
    return fs.existsSync(path);
  }

  readdir(path: string): CgroupDirEntry[] {
    return fs
      .readdirSync(path, { withFileTypes: true })
      .map((d) => ({ name: d.name, isDirectory: d.isDirectory() }));
  }

  realpath(path: string): string {
    return fs.realpathSync(path);
  }
}
