import { useEffect, useRef, useState } from 'preact/hooks';
import { fmtS } from '../api';
import { cityMap, setData, type MapLibre } from '../map';

interface Unit {
  unit: string;
  unitType: string;
  homeStation: string | null;
  status: string;
  since: number;
  dispatched: number | null;
  enroute: number | null;
  onScene: number | null;
  cleared: number | null;
}
interface Incident {
  id: string;
  type: string | null;
  category: string;
  priority: string | null;
  emergency: boolean | null;
  received: number | null;
  lat: number | null;
  lon: number | null;
  address: string | null;
  station: string | null;
  active: boolean;
  units: Unit[];
}
interface Alert {
  kind: string;
  message: string;
  incident?: string;
  unit?: string;
  station?: string;
}
interface Station {
  station: string;
  available: string[];
  committed: string[];
}

export const STATUS_COLOURS: Record<string, string> = {
  dispatched: '#f59f00',
  enroute: '#fab005',
  on_scene: '#e03131',
  transporting: '#7048e8',
  at_hospital: '#1c7ed6',
  available: '#2f9e44',
};
const STATUS_ORDER = [
  'on_scene',
  'enroute',
  'dispatched',
  'transporting',
  'at_hospital',
  'available',
];

/** The status that best describes an incident: the most urgent among its units. */
const leadStatus = (i: Incident) =>
  STATUS_ORDER.find((s) => i.units.some((u) => u.status === s)) ?? 'available';

export function Board() {
  const [incidents, setIncidents] = useState<Map<string, Incident>>(new Map());
  const [stations, setStations] = useState<Station[]>([]);
  const [alerts, setAlerts] = useState<Alert[]>([]);
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
      const d = JSON.parse(e.data) as {
        incidents: Incident[];
        stations: Station[];
        alerts: Alert[];
      };
      setLastId(e.lastEventId);
      setIncidents((prev) => {
        const next = snapshot ? new Map<string, Incident>() : new Map(prev);
        for (const i of d.incidents) {
          if (i.active) next.set(i.id, i);
          else next.delete(i.id);
        }
        return next;
      });
      setStations(d.stations);
      setAlerts((prev) => {
        const touched = new Set(d.incidents.map((i) => i.id));
        const kept = snapshot ? [] : prev.filter((a) => a.incident && !touched.has(a.incident));
        return [...kept, ...d.alerts];
      });
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
                      {u.onScene !== null && u.status === 'on_scene'
                        ? ` on scene ${fmtS(now - u.onScene)}`
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
