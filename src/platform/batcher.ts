/**
 * Group commit: items submitted while a flush is running are gathered and handled together in the
 * next flush, so a burst of small requests costs one transaction instead of one each. Each
 * submitter is answered with the result for its own items.
 *
 * With `lingerMs`, a flush after one that grouped several submitters first waits, at most that
 * long, for those to be waiting again beside the ones already waiting: the submitters just answered are usually about to submit again,
 * and without the wait they fall into the flush after, so steady senders split into two groups
 * that take turns, each waiting for the other's flush (twice the transactions, twice the wait).
 * A lone submitter is never kept waiting.
 */
export class Batcher<T, R> {
  private waiting: { items: T[]; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = false;
  /** while lingering: how many submitters to wait for, and what to call when they are there */
  private gathering: { count: number; done: () => void } | null = null;

  constructor(
    private readonly flush: (items: T[]) => Promise<(count: number, offset: number) => R>,
    private readonly lingerMs = 0,
  ) {}

  /** Items submitted and not yet in a flush. */
  get waitingItems(): number {
    return this.waiting.reduce((n, w) => n + w.items.length, 0);
  }

  submit(items: T[]): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      if (!this.running) void this.drain();
      else if (this.gathering && this.waiting.length >= this.gathering.count) this.gathering.done();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    let grouped = 0;
    for (;;) {
      // those just answered are coming back, to join those already waiting
      if (grouped > 1 && this.lingerMs > 0) await this.gather(this.waiting.length + grouped);
      if (!this.waiting.length) break;
      const batch = this.waiting.splice(0);
      grouped = batch.length;
      try {
        const resultFor = await this.flush(batch.flatMap((b) => b.items));
        let offset = 0;
        for (const b of batch) {
          b.resolve(resultFor(b.items.length, offset));
          offset += b.items.length;
        }
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.running = false;
  }

  /** Waits until `count` submitters are waiting, or lingerMs has passed. */
  private gather(count: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.gathering = null;
        resolve();
      };
      const timer = setTimeout(done, this.lingerMs);
      this.gathering = { count, done };
    });
  }
}
