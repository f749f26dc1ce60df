import { basename } from 'node:path';
import { UserError } from '../../platform/errors.ts';
import { readCsv } from '../../platform/sources.ts';
import type { LiveEvent } from './live.ts';
import { resolveColumns, wideNormaliser } from './normalise.ts';
import { sfFireCalls } from './profiles/sf-fire-calls.ts';

/**
 * Replays a wide CAD file as a live feed: each unit response becomes its status events, shifted so
 * that the file plays out from now at `speed` times real time. Incidents get a per-cycle prefix,
 * so a looping demo never collides with the historical rows it came from.
 */
export interface ReplayEvent extends LiveEvent {
  /** seconds from the start of the file */
  offset: number;
}

const STATUS_OF: [keyof Stamps, LiveEvent['status']][] = [
  ['dispatched', 'dispatched'],
  ['enroute', 'enroute'],
  ['on_scene', 'on_scene'],
  ['transport_started', 'transporting'],
  ['at_hospital', 'at_hospital'],
  ['cleared', 'available'],
];
type Stamps = Record<
  'dispatched' | 'enroute' | 'on_scene' | 'transport_started' | 'at_hospital' | 'cleared',
  number | null
>;

/** Reads the file's unit responses as status events, sorted by time (one pass, kept in memory). */
export async function loadReplay(file: string): Promise<ReplayEvent[]> {
  const norm = wideNormaliser(sfFireCalls);
  const events: ReplayEvent[] = [];
  let index = new Map<string, number>();
  let values: string[] = [];
  let t0 = Infinity;
  await readCsv(file, {
    onHeader(h) {
      const res = resolveColumns(sfFireCalls, h);
      if (!res.index.has('incident_id') || !res.index.has('unit_id'))
        throw new UserError(`${basename(file)} is not a San Francisco-format CAD file.`);
      index = res.index;
    },
    onRecord(v) {
      values = v;
      const r = norm((f) => {
        const i = index.get(f);
        return i === undefined ? null : (values[i] ?? null);
      });
      if (!r.ok || !r.response.own_agency) return;
      const inc = r.incident;
      for (const [stamp, status] of STATUS_OF) {
        const t = r.response[stamp];
        if (t === null) continue;
        t0 = Math.min(t0, inc.call_received ?? t);
        events.push({
          id: `${r.rowId}-${status}`,
          incident: inc.incident_id,
          unit: r.response.unit_id,
          status,
          at: '',
          offset: t,
          received: inc.call_received !== null ? String(inc.call_received) : undefined,
          type: inc.incident_type ?? undefined,
          priority: inc.priority ?? undefined,
          lat: inc.lat ?? undefined,
          lon: inc.lon ?? undefined,
          address: inc.address ?? undefined,
          station_area: inc.station_area ?? undefined,
          unit_type: r.response.unit_type_source ?? undefined,
          home_station: r.response.home_station ?? undefined,
        });
      }
    },
    onError() {
      /* unreadable rows are the importer's business; the replay skips them */
    },
  });
  for (const e of events) {
    e.offset -= t0;
    if (e.received !== undefined) e.received = String(Number(e.received) - t0);
  }
  return events.sort((a, b) => a.offset - b.offset);
}

export interface ReplayOptions {
  speed: number;
  /** data seconds played at once on start, so the board opens busy */
  warmup: number;
  loop: boolean;
  send: (batch: LiveEvent[]) => Promise<void>;
  /** milliseconds between sends */
  tick?: number;
  signal?: AbortSignal;
}

/** Plays the events: data time t is shown at start + (t − warmup) / speed. */
export async function play(events: ReplayEvent[], opts: ReplayOptions): Promise<void> {
  if (events.length === 0) throw new UserError('Nothing to replay.');
  for (let cycle = 1; ; cycle++) {
    const start = Date.now() / 1000;
    const shown = (t: number) => start + (t - opts.warmup) / opts.speed;
    let k = 0;
    while (k < events.length) {
      if (opts.signal?.aborted) return;
      const now = Date.now() / 1000;
      const batch: LiveEvent[] = [];
      while (k < events.length && shown(events[k]!.offset) <= now && batch.length < 2000) {
        const { offset, received, ...e } = events[k++]!;
        batch.push({
          ...e,
          id: `c${cycle}-${e.id}`,
          incident: `R${cycle}-${e.incident}`,
          at: new Date(shown(offset) * 1000).toISOString(),
          received:
            received !== undefined
              ? new Date(shown(Number(received)) * 1000).toISOString()
              : undefined,
        });
      }
      if (batch.length) await opts.send(batch);
      else await new Promise((r) => setTimeout(r, opts.tick ?? 250));
    }
    if (!opts.loop) return;
  }
}
