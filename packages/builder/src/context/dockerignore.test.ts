import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { contextEntries, DockerIgnore, readDockerIgnore } from "./dockerignore.ts";

describe("DockerIgnore", () => {
  it("anchors patterns at the context root; a matched directory takes its contents", () => {
    const ig = new DockerIgnore("node_modules\n/dist\n*.log\n# a comment\n\n");
    expect(ig.excludes("node_modules")).toBe(true);
    expect(ig.excludes("node_modules/x/index.js")).toBe(true);
    expect(ig.excludes("src/node_modules")).toBe(false); // not anchored elsewhere
    expect(ig.excludes("dist/app.js")).toBe(true);
    expect(ig.excludes("app.log")).toBe(true);
    expect(ig.excludes("logs/app.log")).toBe(false); // * stays within one directory
    expect(ig.excludes("# a comment")).toBe(false);
  });

  it("supports **, ?, character classes and escapes", () => {
    const ig = new DockerIgnore("**/*.tmp\nsrc/**/test\nfile?.txt\n[ab].md\nweird\\*name");
    expect(ig.excludes("a.tmp")).toBe(true);
    expect(ig.excludes("deep/down/b.tmp")).toBe(true);
    expect(ig.excludes("src/test")).toBe(true);
    expect(ig.excludes("src/x/y/test/z.js")).toBe(true);
    expect(ig.excludes("file1.txt")).toBe(true);
    expect(ig.excludes("file10.txt")).toBe(false);
    expect(ig.excludes("a.md")).toBe(true);
    expect(ig.excludes("c.md")).toBe(false);
    expect(ig.excludes("weird*name")).toBe(true);
    expect(ig.excludes("weirdXname")).toBe(false);
  });

  it("lets the last matching pattern decide, so ! re-includes", () => {
    const ig = new DockerIgnore("*.md\n!README.md\ndocs\n!docs/keep.txt");
    expect(ig.excludes("CHANGES.md")).toBe(true);
    expect(ig.excludes("README.md")).toBe(false);
    expect(ig.excludes("docs/other.txt")).toBe(true);
    expect(ig.excludes("docs/keep.txt")).toBe(false);
    expect(new DockerIgnore("!README.md\n*.md").excludes("README.md")).toBe(true);
  });
});

describe("contextEntries", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "berth-test-ctx-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (rel: string, body = "x") => {
    fs.mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true });
    fs.writeFileSync(path.join(dir, rel), body);
  };

  it("lists what the build may read, descending into excluded dirs only for exceptions", () => {
    write("Dockerfile", "FROM x");
    write("src/index.js");
    write("node_modules/lib/index.js");
    write("docs/keep.txt");
    write("docs/drop.txt");
    fs.symlinkSync("/etc", path.join(dir, "outside"));
    fs.writeFileSync(path.join(dir, ".dockerignore"), "node_modules\ndocs\n!docs/keep.txt\n");
    const ig = readDockerIgnore(dir, path.join(dir, "Dockerfile"));
    expect(contextEntries(dir, ig)).toEqual([
      ".dockerignore",
      "Dockerfile",
      "docs/keep.txt",
      "outside",
      "src",
      "src/index.js",
    ]);
  });

  it("prefers <Dockerfile>.dockerignore to the context's .dockerignore", () => {
    fs.writeFileSync(path.join(dir, "Dockerfile.dockerignore"), "src\n");
    const ig = readDockerIgnore(dir, path.join(dir, "Dockerfile"));
    expect(ig.excludes("src/index.js")).toBe(true);
    expect(ig.excludes("node_modules/lib/index.js")).toBe(false);
  });
});
