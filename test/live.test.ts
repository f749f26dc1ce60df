import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createToken } from '../src/domains/accounts/accounts.ts';
import { defaultConfig } from '../src/domains/fire/config.ts';
import { buildApp } from '../src/interfaces/http/app.ts';
import { Store } from '../src/platform/db.ts';
import { openTemp, ROOT } from './helpers.ts';
import { openSse } from './sse-client.ts';

const iso = (t: number) => new Date(t * 1000).toISOString();

function incidentEvents(
  incident: string,
  unit: string,
  start: number,
  statuses = ['dispatched', 'enroute', 'on_scene'],
) {
  return statuses.map((status, k) => ({
    id: `${incident}-${unit}-${status}`,
    incident,
    unit,
    status,
    at: iso(start + 60 * k),
    received: iso(start - 30),
    type: 'Structure Fire',
    priority: '3',
    unit_type: 'ENGINE',
    lat: 37.78,
    lon: -122.41,
    address: '100 Block of MARKET ST',
    station_area: '01',
  }));
}

describe('live CAD ingest and the live stream', () => {
  let store: Store,
    app: FastifyInstance,
    base: string,
    ingest: Record<string, string>,
    viewer: Record<string, string>;
  beforeAll(async () => {
    ({ store } = await openTemp());
    ingest = {
      authorization: `Bearer ${await createToken(store, 'cad', 'ingest')}`,
      'content-type': 'application/json',
    };
    viewer = { authorization: `Bearer ${await createToken(store, 'board', 'viewer')}` };
    app = await buildApp({ store, config: defaultConfig() });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    store.close();
  });

  const post = (body: unknown, query = '') =>
    fetch(`${base}/api/v1/cad/events${query}`, {
      method: 'POST',
      headers: ingest,
      body: JSON.stringify(body),
    });

  it('the stream opens with a snapshot, and a posted event reaches it as an update', async () => {
    const s = await openSse(`${base}/api/v1/live/stream`, viewer);
    const snap = await s.next((e) => e.event === 'snapshot');
    expect(snap.data.incidents).toEqual([]);
    const t0 = Math.floor(Date.now() / 1000) - 120;
    const r = await post(incidentEvents('L1', 'E1', t0));
    expect(r.status).toBe(200);
    expect(await r.json()).toMatchObject({ received: 3, inserted: 3, unchanged: 0 });
    const up = await s.next(
      (e) => e.event === 'update' && e.data.incidents.some((i: { id: string }) => i.id === 'L1'),
    );
    const inc = up.data.incidents.find((i: { id: string }) => i.id === 'L1');
    expect(inc.units[0]).toMatchObject({ unit: 'E1', status: 'on_scene' });
    expect(up.id).toBeGreaterThan(snap.id);
    s.close();
  });

  it('re-sending an event changes nothing (idempotent by event id)', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 100;
    await post(incidentEvents('L2', 'E2', t0));
    const again = await (await post(incidentEvents('L2', 'E2', t0))).json();
    expect(again).toMatchObject({ inserted: 0, updated: 0, unchanged: 3 });
    expect(
      (await store.one<{ n: number }>(
        "SELECT count(*) AS n FROM unit_status_events WHERE incident_id = 'L2'",
      ))!.n,
    ).toBe(3);
  });

  it('wide unit responses are accepted too, as one event per stamp, idempotently', async () => {
    const t0 = Math.floor(Date.now() / 1000) - 90;
    const wide = [
      {
        incident: 'W1',
        unit: 'M5',
        unit_type: 'MEDIC',
        type: 'Medical Incident',
        priority: '3',
        received: iso(t0 - 20),
        dispatched: iso(t0),
        enroute: iso(t0 + 30),
        on_scene: iso(t0 + 75),
      },
    ];
    const first = await (await post(wide)).json();
    expect(first).toMatchObject({ received: 3, inserted: 3 });
    const again = await (await post(wide)).json();
    expect(again).toMatchObject({ inserted: 0, unchanged: 3 });
    const r = await store.one<{ turnout: number; travel: number }>(
      "SELECT epoch(enroute) - epoch(dispatched) AS turnout, epoch(on_scene) - epoch(enroute) AS travel FROM unit_responses WHERE incident_id = 'W1'",
    );
    expect(r).toEqual({ turnout: 30, travel: 45 });
    const bad = await post([{ incident: 'W2', unit: 'M6' }]);
    expect(bad.status).toBe(400);
    expect((await bad.json()).errors[0].message).toMatch(/has no stamp/);
  });

  it('invalid items answer 400 naming each one, and nothing of the batch is stored', async () => {
    const good = incidentEvents('L3', 'E3', Math.floor(Date.now() / 1000));
    const r = await post([
      good[0],
      { ...good[1], status: 'teleported' },
      { ...good[2], at: 'noon' },
    ]);
    expect(r.status).toBe(400);
    const body = await r.json();
    expect(body.error).toMatch(/2 of 3 events are invalid; none was accepted/);
    expect(body.errors).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 1, field: 'status' }),
        expect.objectContaining({ index: 2, field: 'at' }),
      ]),
    );
    expect(
      (await store.one<{ n: number }>(
        "SELECT count(*) AS n FROM unit_status_events WHERE incident_id = 'L3'",
      ))!.n,
    ).toBe(0);
  });

  it('an oversized body answers 413; a missing token 401', async () => {
    const big = Array.from({ length: 4000 }, (_, k) => ({
      ...incidentEvents('BIG', 'E9', 0)[0],
      id: `x${k}`,
      address: 'x'.repeat(250),
    }));
    expect((await post(big)).status).toBe(413);
    expect(
      (
        await fetch(`${base}/api/v1/cad/events`, {
          method: 'POST',
          body: '[]',
          headers: { 'content-type': 'application/json' },
        })
      ).status,
    ).toBe(401);
  });

  it('a client that reconnects with Last-Event-ID receives what it missed', async () => {
    const s = await openSse(`${base}/api/v1/live/stream`, viewer);
    const snap = await s.next((e) => e.event === 'snapshot');
    s.close();
    const t0 = Math.floor(Date.now() / 1000) - 60;
    await post(incidentEvents('L4', 'E4', t0, ['dispatched']));
    await post(
      incidentEvents('L4', 'E4', t0, ['enroute']).map((e) => ({ ...e, at: iso(t0 + 45) })),
    );
    const again = await openSse(`${base}/api/v1/live/stream`, {
      ...viewer,
      'last-event-id': String(snap.id),
    });
    const second = await again.next((e) =>
      e.data.incidents?.some(
        (i: { id: string; units: { status: string }[] }) =>
          i.id === 'L4' && i.units[0]!.status === 'enroute',
      ),
    );
    const first = again.events.find((e) =>
      e.data.incidents?.some(
        (i: { id: string; units: { status: string }[] }) =>
          i.id === 'L4' && i.units[0]!.status === 'dispatched',
      ),
    );
    expect(first).toBeDefined();
    expect(first!.id).toBeLessThan(second.id);
    expect(again.events.some((e) => e.event === 'snapshot')).toBe(false);
    again.close();
  });

  it('an acknowledged event survives the server being killed right after the 2xx', async () => {
    const { path, store: s2 } = await openTemp();
    const token = await createToken(s2, 'cad', 'ingest');
    s2.close();
    const port = 38000 + Math.floor(Math.random() * 1000);
    const server = spawn(
      process.execPath,
      [join(ROOT, 'bin/cityops.mjs'), 'serve', '--db', path, '--port', String(port)],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      server.stdout!.on('data', (d: Buffer) => {
        if (d.toString().includes('serving')) resolve();
      });
      server.on('exit', (c) => reject(new Error(`server exited ${c}`)));
    });
    const r = await fetch(`http://127.0.0.1:${port}/api/v1/cad/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(incidentEvents('K1', 'E7', Math.floor(Date.now() / 1000))),
    });
    expect(r.status).toBe(200);
    server.kill('SIGKILL');
    await new Promise((resolve) => server.on('exit', resolve));
    const after = await Store.open(path);
    expect(
      (await after.one<{ n: number }>(
        "SELECT count(*) AS n FROM unit_status_events WHERE incident_id = 'K1'",
      ))!.n,
    ).toBe(3);
    after.close();
  });
});
