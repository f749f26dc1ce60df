import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtS } from '../api';
import { cityMap, setData, type MapLibre } from '../map';
import type {
  LiveAlert,
  LiveIncident,
  LiveState,
  LiveStation,
  UnitStatus,
} from '../../../src/contracts/live';

/** Every status's colour: typed by the one status table, so a new status cannot go uncoloured. */
export const STATUS_COLOURS: Record<UnitStatus, string> = {
  dispatched: '#f59f00',
  enroute: '#fab005',
  staging: '#e8590c',
  on_scene: '#e03131',
  transporting: '#7048e8',
  at_hospital: '#1c7ed6',
  available: '#2f9e44',
  in_quarters: '#087f5b',
};
/** How urgent each status makes an incident look (lower first). */
const URGENCY: Record<UnitStatus, number> = {
  on_scene: 0,
  staging: 1,
  enroute: 2,
  dispatched: 3,
  transporting: 4,
  at_hospital: 5,
  available: 6,
  in_quarters: 7,
};

/** The status that best describes an incident: the most urgent among its units. */
const leadStatus = (i: LiveIncident): UnitStatus =>
  i.units.map((u) => u.status).sort((a, b) => URGENCY[a] - URGENCY[b])[0] ?? 'available';

export interface BoardState {
  incidents: Map<string, LiveIncident>;
  stations: LiveStation[];
  alerts: LiveAlert[];
}
export const EMPTY_BOARD: BoardState = { incidents: new Map(), stations: [], alerts: [] };

/**
 * The board's one reducer. A snapshot replaces the picture; an update replaces the incidents it
 * carries (an inactive one leaves the board) and the station board, and the alerts of the
 * incidents it touched (alerts without an incident always come whole with each message).
 */
export function foldBoard(prev: BoardState, d: LiveState, snapshot: boolean): BoardState {
  const incidents = snapshot ? new Map<string, LiveIncident>() : new Map(prev.incidents);
  for (const i of d.incidents) {
    if (i.active) incidents.set(i.id, i);
    else incidents.delete(i.id);
  }
  const touched = new Set(d.incidents.map((i) => i.id));
  const kept = snapshot ? [] : prev.alerts.filter((a) => a.incident && !touched.has(a.incident));
  return { incidents, stations: d.stations, alerts: [...kept, ...d.alerts] };
}

export function Board() {
  const [board, setBoard] = useState<BoardState>(EMPTY_BOARD);
  const { incidents, stations, alerts } = board;
  const [connected, setConnected] = useState(false);
  const [lastId, setLastId] = useState<string>('');
  const [, tick] = useState(0);
  const mapEl = useRef<HTMLDivElement>(null);
  const map = useRef<MapLibre | null>(null);
  const stationLayer = useRef<GeoJSON.FeatureCollection | null>(null);

  useEffect(() => {
    const t = setInterval(() => tick((x) => x + 1), 1000);
    return () => clearInterval(t);
  }, []);

  useEffect(() => {
    // EventSource reconnects by itself and sends Last-Event-ID, so the server replays what was missed
    const es = new EventSource('/api/v1/live/stream');
    const apply = (e: MessageEvent, snapshot: boolean) => {
      setLastId(e.lastEventId);
      // the stream's data is the server's LiveState (src/contracts/live.ts), as JSON
      const state: LiveState = JSON.parse(e.data);
      setBoard((prev) => foldBoard(prev, state, snapshot));
    };
    es.addEventListener('snapshot', (e) => apply(e as MessageEvent, true));
    es.addEventListener('update', (e) => apply(e as MessageEvent, false));
    es.onopen = () => setConnected(true);
    es.onerror = () => setConnected(false);
    return () => es.close();
  }, []);

  useEffect(() => {
    let cancelled = false;
    void cityMap(mapEl.current!).then(({ map: m, stations: layer }) => {
      if (cancelled) return m.remove();
      map.current = m;
      stationLayer.current = layer;
      m.addLayer({
        id: 'stations',
        type: 'circle',
        source: 'stations',
        paint: {
          'circle-radius': 6,
          'circle-stroke-width': 2,
          'circle-stroke-color': '#fff',
          'circle-color': [
            'match',
            ['get', 'state'],
            'empty',
            '#c92a2a',
            'in',
            '#2f9e44',
            '#868e96',
          ],
        },
      });
      m.addSource('incidents', {
        type: 'geojson',
        data: { type: 'FeatureCollection', features: [] },
      });
      m.addLayer({
        id: 'incidents',
        type: 'circle',
        source: 'incidents',
        paint: {
          'circle-radius': 9,
          'circle-opacity': 0.9,
          'circle-stroke-width': 2,
          'circle-stroke-color': '#212529',
          'circle-color': [
            'match',
            ['get', 'status'],
            ...Object.entries(STATUS_COLOURS).flat(),
            '#868e96',
          ] as unknown as string,
        },
      });
      (window as unknown as { cityopsMap: MapLibre }).cityopsMap = m;
    });
    return () => {
      cancelled = true;
      map.current?.remove();
    };
  }, []);

  const list = [...incidents.values()].sort((a, b) => (a.received ?? 0) - (b.received ?? 0));
  useEffect(() => {
    const m = map.current;
    if (!m || !m.getSource('incidents')) return;
    setData(m, 'incidents', {
      type: 'FeatureCollection',
      features: list
        .filter((i) => i.lat !== null && i.lon !== null)
        .map((i) => ({
          type: 'Feature',
          geometry: { type: 'Point', coordinates: [i.lon!, i.lat!] },
          properties: { id: i.id, status: leadStatus(i) },
        })),
    });
    const byNo = new Map(stations.map((s) => [Number(s.station), s]));
    const base = stationLayer.current;
    if (base) {
      setData(m, 'stations', {
        type: 'FeatureCollection',
        features: base.features.map((f) => {
          const s = byNo.get(Number(f.properties?.station));
          return {
            ...f,
            properties: {
              ...f.properties,
              state: !s ? 'unknown' : s.available.length ? 'in' : 'empty',
            },
          };
        }),
      });
    }
  }, [incidents, stations, map.current]);

  const now = Date.now() / 1000;
  const empty = stations.filter((s) => s.available.length === 0 && s.committed.length > 0);
  return (
    <div class="board">
      <div class="map" ref={mapEl} data-testid="board-map">
        <div class="legend">
          {Object.entries(STATUS_COLOURS).map(([s, c]) => (
            <span>
              <i style={{ background: c }} />
              {s.replace('_', ' ')}
            </span>
          ))}
          <span>
            <i style={{ background: '#2f9e44', borderRadius: '50%' }} />
            station staffed
          </span>
          <span>
            <i style={{ background: '#c92a2a', borderRadius: '50%' }} />
            station empty
          </span>
        </div>
      </div>
      <aside>
        <div class="status-line">
          <span class={connected ? 'dot on' : 'dot off'} />
          {connected ? 'Live' : 'Reconnecting…'}
          <span class="muted">
            {' '}
            · {list.length} active incidents ·{' '}
            {stations.reduce((a, s) => a + s.committed.length, 0)} units committed · {empty.length}{' '}
            stations empty · event {lastId || '–'}
          </span>
        </div>
        <section class="alerts" data-testid="alerts">
          <h3>Alerts ({alerts.length})</h3>
          {alerts.length === 0 ? (
            <p class="muted">None.</p>
          ) : (
            alerts.slice(0, 12).map((a) => <p class={`alert ${a.kind}`}>{a.message}</p>)
          )}
        </section>
        <section data-testid="incident-list">
          <h3>Active incidents</h3>
          {list.map((i) => (
            <article class="incident" data-incident={i.id}>
              <header>
                <b>{i.type ?? 'Incident'}</b>
                {i.emergency ? <span class="tag red">Code 3</span> : null}
                <span class="elapsed" title="since call received">
                  {i.received ? fmtS(now - i.received) : '–'}
                </span>
              </header>
              <div class="muted">
                {i.id} · {i.address ?? 'no address'} · first due {i.station ?? '–'}
              </div>
              <div class="units">
                {i.units.map((u) => (
                  <span
                    class="unit"
                    style={{ borderColor: STATUS_COLOURS[u.status] }}
                    title={`${u.unitType}: ${u.status}`}
                    data-status={u.status}
                  >
                    <i style={{ background: STATUS_COLOURS[u.status] }} />
                    {u.unit}
                    <small>
                      {u.dispatched !== null && u.status === 'dispatched'
                        ? ` turnout ${fmtS(now - u.dispatched)}`
                        : ''}
                      {u.enroute !== null && u.status === 'enroute'
                        ? ` travel ${fmtS(now - u.enroute)}`
                        : ''}
                      {u.staging !== null && u.status === 'staging'
                        ? ` staging ${fmtS(now - u.staging)}`
                        : ''}
                      {u.onScene !== null && u.status === 'on_scene'
                        ? ` on scene ${fmtS(now - u.onScene)}`
                        : ''}
                      {u.transport !== null && u.status === 'transporting'
                        ? ` transport ${fmtS(now - u.transport)}`
                        : ''}
                    </small>
                  </span>
                ))}
              </div>
            </article>
          ))}
        </section>
      </aside>
    </div>
  );
}
