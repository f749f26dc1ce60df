/** A minimal Server-Sent Events client over fetch, for tests and the latency benchmark. */
export interface SseEvent {
  id: number;
  event: string;
  data: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  receivedAt: number;
}

export async function openSse(url: string, headers: Record<string, string> = {}) {
  const ac = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: ac.signal,
  });
  if (!res.ok || !res.body) throw new Error(`SSE ${url}: ${res.status}`);
  const events: SseEvent[] = [];
  const waiters: (() => void)[] = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buf = '';
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += decoder.decode(value, { stream: true });
      let k: number;
      while ((k = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, k);
        buf = buf.slice(k + 2);
        const e: Partial<SseEvent> = { event: 'message', receivedAt: performance.now() };
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('id: ')) e.id = Number(line.slice(4));
          else if (line.startsWith('event: ')) e.event = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (!data) continue;
        e.data = JSON.parse(data);
        events.push(e as SseEvent);
        for (const w of waiters.splice(0)) w();
      }
    }
  })().catch(() => undefined);
  return {
    events,
    close: () => ac.abort(),
    /** Waits for the first event (from index `from`) that matches. */
    async next(match: (e: SseEvent) => boolean, from = 0, timeoutMs = 10000): Promise<SseEvent> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const hit = events.slice(from).find(match);
        if (hit) return hit;
        if (Date.now() > deadline)
          throw new Error(`no matching SSE event within ${timeoutMs} ms (got ${events.length})`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 100);
        });
      }
    },
  };
}
