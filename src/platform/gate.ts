/** Thrown when a gate's queue is full: the caller should answer "busy, try again". */
export class GateFull extends Error {
  constructor(readonly retryAfterSeconds: number) {
    super('busy');
    this.name = 'GateFull';
  }
}

/**
 * Lets at most `slots` pieces of work run at once and at most `queue` wait; more are refused at
 * once with GateFull. Bounds costly work (password hashes, PDF renders) by count, not by hope.
 */
export class Gate {
  private running = 0;
  private waiting: (() => void)[] = [];

  constructor(
    private readonly slots: number,
    private readonly queue = Infinity,
    private readonly retryAfterSeconds = 30,
  ) {}

  /** The work running and waiting now, for /api/health. */
  get depth(): { running: number; waiting: number; slots: number; queue: number } {
    return {
      running: this.running,
      waiting: this.waiting.length,
      slots: this.slots,
      queue: this.queue,
    };
  }

  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.slots) {
      if (this.waiting.length >= this.queue) throw new GateFull(this.retryAfterSeconds);
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      return await work();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}
