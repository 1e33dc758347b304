/**
 * One push per app at a time: a second push to the same app waits for the first (and is told so),
 * because two builds racing to release would leave the app on whichever finished last.
 */
export class AppLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(app: string, onWait: () => void, work: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(app);
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = (previous ?? Promise.resolve()).then(() => mine);
    this.tails.set(app, tail);
    if (previous) {
      onWait();
      await previous;
    }
    try {
      return await work();
    } finally {
      release();
      if (this.tails.get(app) === tail) this.tails.delete(app);
    }
  }
}
