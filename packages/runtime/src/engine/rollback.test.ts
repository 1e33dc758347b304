import { describe, expect, it } from "vitest";
import { Rollback } from "./rollback.ts";

describe("Rollback", () => {
  it("undoes completed steps in reverse order when step N fails, and keeps going past undo errors", async () => {
    const log: string[] = [];
    const rb = new Rollback();
    const steps = ["state dir", "cgroup", "netns", "zygote"];
    const failAt = 2;
    await expect(
      (async () => {
        for (const [i, s] of steps.entries()) {
          if (i === failAt) throw new Error(`${s} failed`);
          log.push(`do ${s}`);
          rb.add(s, () => {
            log.push(`undo ${s}`);
            if (s === "cgroup") throw new Error("EBUSY");
          });
        }
      })().catch(async (e) => {
        await rb.run();
        throw e;
      }),
    ).rejects.toThrow("netns failed");
    expect(log).toEqual(["do state dir", "do cgroup", "undo cgroup", "undo state dir"]);
    expect(rb.undoErrors.map((e) => e.message)).toEqual(["undo cgroup: EBUSY"]);
  });

  it("does nothing after commit", async () => {
    const rb = new Rollback();
    let undone = false;
    rb.add("x", () => {
      undone = true;
    });
    rb.commit();
    await rb.run();
    expect(undone).toBe(false);
  });
});
