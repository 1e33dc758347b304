/**
 * An undo stack for multi-step creation: each step that changed the host registers how to undo
 * itself; on failure everything done so far is undone in reverse order (errors while undoing are
 * collected, not thrown over the original failure).
 */
export class Rollback {
  private readonly undos: { what: string; undo: () => unknown }[] = [];
  readonly undoErrors: Error[] = [];

  add(what: string, undo: () => unknown): void {
    this.undos.push({ what, undo });
  }

  /** Forget the undos: the work succeeded and is kept. */
  commit(): void {
    this.undos.length = 0;
  }

  async run(): Promise<void> {
    while (this.undos.length > 0) {
      const { what, undo } = this.undos.pop()!;
      try {
        await undo();
      } catch (e) {
        this.undoErrors.push(new Error(`undo ${what}: ${(e as Error).message}`));
      }
    }
  }
}
