import { describe, expect, it } from 'vitest';
import { Batcher } from './batcher.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Group commit under steady load: live posters that post again as soon as they are answered. */
describe('group commit (Batcher)', () => {
  it('steady senders who come back a moment after their answer stay in one group, not two taking turns', async () => {
    const groups: number[] = [];
    const batcher = new Batcher<number, number>(async (items) => {
      groups.push(items.length);
      await sleep(40);
      return () => items.length;
    }, 25);
    await Promise.all(
      Array.from({ length: 8 }, async (_, k) => {
        await sleep(k); // they start a little apart
        for (let round = 0; round < 8; round++) {
          await batcher.submit([k]);
          await sleep(5); // the answer's way back and the next post's way in
        }
      }),
    );
    // the first flush takes whoever came first, the second the rest; then each holds all eight
    // (but the last: the first sender, a flush ahead, has finished)
    expect(groups.slice(2, -1)).toEqual(Array(groups.length - 3).fill(8));
    expect(groups.reduce((a, b) => a + b, 0)).toBe(64);
  });

  it('a lone sender is not kept waiting for company', async () => {
    const started: number[] = [];
    const batcher = new Batcher<number, number>(async (items) => {
      started.push(performance.now());
      return () => items.length;
    }, 1000);
    const t0 = performance.now();
    for (let k = 0; k < 3; k++) await batcher.submit([k]);
    expect(performance.now() - t0).toBeLessThan(500); // far under one linger of 1000 ms
  });
});
