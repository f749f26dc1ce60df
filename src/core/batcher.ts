/**
 * Group commit: items submitted while a flush is running are gathered and handled together in the
 * next flush, so a burst of small requests costs one transaction instead of one each. Each
 * submitter is answered with the result for its own items.
 */
export class Batcher<T, R> {
  private waiting: { items: T[]; resolve: (r: R) => void; reject: (e: unknown) => void }[] = [];
  private running = false;

  constructor(private readonly flush: (items: T[]) => Promise<(count: number, offset: number) => R>) {}

  submit(items: T[]): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ items, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.running = true;
    while (this.waiting.length) {
      const batch = this.waiting.splice(0);
      try {
        const resultFor = await this.flush(batch.flatMap((b) => b.items));
        let offset = 0;
        for (const b of batch) { b.resolve(resultFor(b.items.length, offset)); offset += b.items.length; }
      } catch (e) {
        for (const b of batch) b.reject(e);
      }
    }
    this.running = false;
  }
}
