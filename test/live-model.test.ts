import { describe, expect, it } from 'vitest';
import { importFireRecords } from '../src/domains/fire/import.ts';
import { liveState, type LiveEvent } from '../src/domains/fire/live.ts';
import { LiveModel } from '../src/domains/fire/live-model.ts';
import { openTemp } from './helpers.ts';

const LA = 'America/Los_Angeles';
const iso = (t: number) => new Date(t * 1000).toISOString();

describe('the in-memory live model', () => {
  it('folds events exactly as the database does', async () => {
    const { store } = await openTemp();
    const model = await LiveModel.load(store, Date.now() / 1000, LA);
    const t = Math.floor(Date.now() / 1000) - 600;
    const events: LiveEvent[] = [
      {
        id: 'a1',
        incident: 'X1',
        unit: 'E1',
        status: 'dispatched',
        at: iso(t),
        received: iso(t - 40),
        type: 'Structure Fire',
        priority: '3',
        unit_type: 'ENGINE',
        home_station: '1',
        lat: 37.77,
        lon: -122.41,
      },
      { id: 'a2', incident: 'X1', unit: 'E1', status: 'enroute', at: iso(t + 50) },
      {
        id: 'a3',
        incident: 'X1',
        unit: 'T1',
        status: 'dispatched',
        at: iso(t + 5),
        unit_type: 'TRUCK',
        home_station: '1',
      },
      { id: 'a4', incident: 'X1', unit: 'T1', status: 'enroute', at: iso(t + 70) },
      { id: 'a5', incident: 'X1', unit: 'E1', status: 'on_scene', at: iso(t + 300) },
      { id: 'a6', incident: 'X1', unit: 'E1', status: 'on_scene', at: iso(t + 290) }, // a correction: the later event wins
      {
        id: 'b1',
        incident: 'X2',
        unit: 'M1',
        status: 'dispatched',
        at: iso(t + 100),
        type: 'Medical Incident',
        priority: '2',
        unit_type: 'MEDIC',
      },
      { id: 'b2', incident: 'X2', unit: 'M1', status: 'available', at: iso(t + 400) },
      {
        id: 'c1',
        incident: 'X3',
        unit: 'AM9',
        status: 'dispatched',
        at: iso(t + 120),
        unit_type: 'PRIVATE',
      },
    ];
    await importFireRecords(store, events as unknown as Record<string, unknown>[], 'test', {
      profile: 'cad-status-events',
    });
    model.apply(events, Date.now() / 1000);
    const now = Date.now() / 1000;
    const fromDb = await liveState(store, now);
    const fromModel = model.snapshot(now);
    const strip = (s: typeof fromDb) =>
      s.incidents.map((i) => ({
        ...i,
        units: i.units.map((u) => ({ ...u })).sort((a, b) => a.unit.localeCompare(b.unit)),
      }));
    expect(strip(fromModel)).toEqual(strip(fromDb));
    expect(fromModel.incidents.map((i) => i.id)).toEqual(['X1']); // X2 ended, X3 is another agency's
    expect(fromModel.incidents[0]!.units.find((u) => u.unit === 'E1')!.onScene).toBe(t + 290);
    expect(fromModel.stations).toEqual(fromDb.stations);
    store.close();
  });

  it('raises the overnight fatigue alert after more than two runs between 22:00 and 06:00', () => {
    const model = new LiveModel(LA);
    const night = Date.parse('2024-05-02T06:00:00Z') / 1000; // 23:00 local on 1 May
    const run = (k: number, start: number): LiveEvent[] => [
      {
        id: `r${k}d`,
        incident: `N${k}`,
        unit: 'M7',
        status: 'dispatched',
        at: iso(start),
        unit_type: 'MEDIC',
      },
      { id: `r${k}a`, incident: `N${k}`, unit: 'M7', status: 'available', at: iso(start + 1800) },
    ];
    model.apply([...run(1, night), ...run(2, night + 7200)], night + 9500);
    expect(model.snapshot(night + 9500).alerts.filter((a) => a.kind === 'fatigue')).toEqual([]);
    const touched = model.apply(run(3, night + 4 * 3600), night + 4 * 3600 + 60);
    const alerts = model
      .update(touched, night + 4 * 3600 + 60)
      .alerts.filter((a) => a.kind === 'fatigue');
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.message).toMatch(/M7: 3 runs and 61 min committed tonight/); // 30 + 30 min, and a minute into the third run
  });
});
