import { Gate } from '../../platform/gate.ts';

/** Thrown when every client waiting for an answer has gone before its computation started. */
export class ClientsGone extends Error {
  constructor() {
    super('every client waiting for this answer has gone');
    this.name = 'ClientsGone';
  }
}

interface Entry {
  version: number;
  answer: Promise<unknown>;
  started: boolean;
  waiting: Set<() => boolean>;
}

export interface PublicAnswersOptions {
  /** computations running at once */
  slots?: number;
  /** computations waiting for a slot; more are refused (503) */
  queue?: number;
  /** answers kept per data version */
  entries?: number;
}

/**
 * Answers to anonymous requests, computed once per data version and shared: identical requests
 * while one is computed wait for that computation, later ones get its answer, and any commit (an
 * import, a live batch, an edit) bumps the version so the next request computes afresh. At most
 * `slots` computations run and `queue` wait, so anonymous load cannot starve staff requests; a
 * computation whose clients have all gone by the time its turn comes is not started.
 */
export class PublicAnswers {
  /** How many answers were computed (not served from the cache). */
  computations = 0;
  private readonly entries = new Map<string, Entry>();
  private readonly gate: Gate;
  private readonly maxEntries: number;

  constructor(
    private readonly dataVersion: () => number,
    opts: PublicAnswersOptions = {},
  ) {
    this.gate = new Gate(opts.slots ?? 2, opts.queue ?? 8, 5);
    this.maxEntries = opts.entries ?? 256;
  }

  /** The computations running and waiting, for /api/health. */
  get depth() {
    return this.gate.depth;
  }

  /** The answer for `key`; `gone` says whether this client has left. Throws GateFull when busy, ClientsGone when nobody is left. */
  answer<T>(key: string, gone: () => boolean, compute: () => Promise<T>): Promise<T> {
    const version = this.dataVersion();
    const cached = this.entries.get(key);
    if (cached && cached.version === version) {
      if (!cached.started) cached.waiting.add(gone);
      return cached.answer as Promise<T>;
    }
    const entry: Entry = {
      version,
      answer: Promise.resolve(),
      started: false,
      waiting: new Set([gone]),
    };
    entry.answer = this.gate.run(async () => {
      if ([...entry.waiting].every((g) => g())) throw new ClientsGone();
      entry.started = true;
      entry.waiting.clear(); // the computation runs now: who was waiting no longer matters
      this.computations++;
      return compute();
    });
    entry.answer.catch(() => {
      if (this.entries.get(key) === entry) this.entries.delete(key);
    });
    this.entries.delete(key);
    this.entries.set(key, entry);
    if (this.entries.size > this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    return entry.answer as Promise<T>;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The app's public answers (tests count their computations). */
    publicAnswers: PublicAnswers;
  }
}
