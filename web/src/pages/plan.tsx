import { useEffect, useRef, useState } from 'preact/hooks';
import type { CoverageStation, Placement } from '../../../src/contracts/index.ts';
import { api, fmtPct, fmtS, query, useQuery } from '../api';
import { cityMap, Marker, setData, type MapLibre } from '../map';

/**
 * The planning map: drive-time bands of the deployment, the incidents it leaves uncovered, and the
 * stations, which can be dragged, closed or added (click the map); every change asks the server for
 * today against the what-if, which answers in milliseconds.
 */
const NO_STATIONS: CoverageStation[] = [];
const BAND_COLOURS = ['#2b8a3e', '#f59f00', '#e8590c'];
const OBJECTIVE_SHARE = 0.9; // NFPA 1710: the travel objective met for 90% of incidents

export function Plan() {
  const [closed, setClosed] = useState<string[]>([]);
  const [moved, setMoved] = useState<Record<string, [number, number]>>({});
  const [added, setAdded] = useState<[number, number][]>([]);
  const [minutes, setMinutes] = useState(4);
  const [placement, setPlacement] = useState<Placement | null>(null);
  const [placeError, setPlaceError] = useState('');
  const [ready, setReady] = useState(false);
  const mapEl = useRef<HTMLDivElement>(null);
  const map = useRef<MapLibre | null>(null);
  const markers = useRef<Marker[]>([]);

  // the what-if as the API takes it
  const mv = Object.entries(moved);
  const scenario = {
    minutes,
    close: closed.join(','),
    add: added.map(([lat, lon]) => `${lat.toFixed(6)},${lon.toFixed(6)}`).join(';'),
    move: mv.map(([id, [lat, lon]]) => `${id}:${lat.toFixed(6)},${lon.toFixed(6)}`).join(';'),
  };
  const listed = useQuery((get) => get('/api/v1/coverage/stations'), []);
  const stations = listed.data?.stations ?? NO_STATIONS;
  const what = useQuery(
    (get) => get('/api/v1/coverage/scenario', { ...scenario, bands: 'true' }),
    [query(scenario)],
  );
  const answer = what.data;
  const error = what.error || listed.error || placeError;

  useEffect(() => {
    void cityMap(mapEl.current!).then(({ map: m }) => {
      m.addSource('bands', { type: 'geojson', data: { type: 'FeatureCollection', features: [] } });
      m.addSource('uncovered', {
        type: 'geojson',
        data: { type: 'FeatureCollection', features: [] },
      });
      m.addLayer({
        id: 'bands',
        type: 'fill',
        source: 'bands',
        filter: ['==', ['get', 'scope'], 'union'],
        paint: {
          'fill-opacity': 0.35,
          'fill-color': [
            'match',
            ['get', 'bandIndex'],
            0,
            BAND_COLOURS[0]!,
            1,
            BAND_COLOURS[1]!,
            BAND_COLOURS[2]!,
          ],
        },
      });
      m.addLayer({
        id: 'uncovered-area',
        type: 'line',
        source: 'bands',
        filter: ['==', ['get', 'scope'], 'uncovered'],
        paint: { 'line-color': '#c92a2a', 'line-width': 1.5 },
      });
      m.addLayer({
        id: 'erf-area',
        type: 'line',
        source: 'bands',
        filter: ['==', ['get', 'scope'], 'erf'],
        layout: { visibility: 'none' },
        paint: { 'line-color': '#1864ab', 'line-width': 2, 'line-dasharray': [2, 2] },
      });
      m.addLayer({
        id: 'uncovered',
        type: 'circle',
        source: 'uncovered',
        paint: { 'circle-radius': 2.5, 'circle-color': '#c92a2a' },
      });
      m.on('click', (e) => setAdded((a) => [...a, [e.lngLat.lat, e.lngLat.lng]]));
      map.current = m;
      setReady(true);
    });
  }, []);

  // the bands and the uncovered incidents of the latest answer, once the map is there
  useEffect(() => {
    if (!ready || !answer || !map.current) return;
    if (answer.bands) setData(map.current, 'bands', answer.bands);
    setData(map.current, 'uncovered', {
      type: 'FeatureCollection',
      features: [{ type: 'Feature', properties: {}, geometry: answer.uncovered }],
    });
  }, [answer, ready]);

  // station markers: draggable; closed ones grey
  useEffect(() => {
    const m = map.current;
    if (!m) return;
    for (const mk of markers.current) mk.remove();
    markers.current = [];
    const make = (
      lat: number,
      lon: number,
      label: string,
      cls: string,
      onDrag: (lat: number, lon: number) => void,
    ) => {
      const el = document.createElement('div');
      el.className = `station-marker ${cls}`;
      el.textContent = label;
      el.title = 'drag to move';
      const mk = new Marker({ element: el, draggable: true }).setLngLat([lon, lat]).addTo(m);
      mk.on('dragend', () => {
        const p = mk.getLngLat();
        onDrag(p.lat, p.lng);
      });
      el.addEventListener('click', (e) => e.stopPropagation());
      markers.current.push(mk);
    };
    for (const s of stations.filter((x) => x.onNetwork)) {
      const pos = moved[s.id] ?? [s.lat, s.lon];
      make(
        pos[0],
        pos[1],
        s.id,
        closed.includes(s.id) ? 'closed' : moved[s.id] ? 'moved' : '',
        (lat, lon) => setMoved((mv) => ({ ...mv, [s.id]: [lat, lon] })),
      );
    }
    added.forEach(([lat, lon], i) =>
      make(lat, lon, '+', 'added', (la, lo) =>
        setAdded((a) => a.map((x, k) => (k === i ? [la, lo] : x))),
      ),
    );
  }, [stations, closed.join(), JSON.stringify(moved), JSON.stringify(added), ready]);

  const place = async () => {
    setPlacement(null);
    setPlaceError('');
    try {
      setPlacement(await api('/api/v1/coverage/place', { ...scenario, k: 2, timeLimit: 5 }));
    } catch (e) {
      setPlaceError((e as Error).message);
    }
  };
  const t = answer?.today,
    w = answer?.scenario;
  const grade = (x: number | undefined) =>
    x === undefined ? '' : x >= OBJECTIVE_SHARE ? 'pass' : 'fail';
  return (
    <div class="page" data-testid="plan">
      <h2>Station planning</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Travel objective{' '}
          <select
            name="minutes"
            value={String(minutes)}
            onChange={(e) => setMinutes(Number((e.target as HTMLSelectElement).value))}
          >
            {[4, 5, 6, 8].map((m) => (
              <option value={m}>{m} min</option>
            ))}
          </select>
        </label>
        <button
          type="button"
          onClick={() => {
            setClosed([]);
            setMoved({});
            setAdded([]);
            setPlacement(null);
          }}
        >
          Reset to today
        </button>
        <button type="button" onClick={place}>
          Suggest 2 new sites
        </button>
        <a
          class="button"
          href={`/api/v1/coverage/bands?${query(scenario)}`}
          download="cityops-drive-time-bands.geojson"
        >
          Download bands (GeoJSON)
        </a>
        <label>
          <input
            type="checkbox"
            name="erf"
            onChange={(e) =>
              map.current?.setLayoutProperty(
                'erf-area',
                'visibility',
                (e.target as HTMLInputElement).checked ? 'visible' : 'none',
              )
            }
          />{' '}
          Show where the full response force (15 staff) assembles in 8 min
        </label>
      </form>
      {error && <p class="error">{error}</p>}
      <div class="grid2">
        <section class="card">
          <header>
            <h3>Drive-time bands</h3>
            <small>
              green ≤ {minutes} min · amber ≤ {minutes + 2} · orange ≤ {minutes + 4} · red outline
              and dots: areas and incidents outside {minutes} min · click the map to add a station,
              drag one to move it
            </small>
          </header>
          <div ref={mapEl} class="map" style={{ height: '520px' }} data-testid="plan-map" />
        </section>
        <section class="card" data-testid="plan-numbers">
          <header>
            <h3>Today and the what-if</h3>
            {answer && <small data-testid="plan-ms">answered in {Math.round(answer.ms)} ms</small>}
          </header>
          {t && w && (
            <table>
              <thead>
                <tr>
                  <th />
                  <th>Today</th>
                  <th>What-if</th>
                </tr>
              </thead>
              <tbody>
                <tr>
                  <td class="text">Incidents within {minutes} min</td>
                  <td class={grade(t.coveredShare)}>{fmtPct(t.coveredShare)}</td>
                  <td class={grade(w.coveredShare)} data-testid="scenario-share">
                    {fmtPct(w.coveredShare)}
                  </td>
                </tr>
                <tr>
                  <td class="text">…counting units' busy time</td>
                  <td>{fmtPct(t.probabilistic.expectedCoveredShare)}</td>
                  <td>{fmtPct(w.probabilistic.expectedCoveredShare)}</td>
                </tr>
                <tr>
                  <td class="text">Effective response force in 8 min</td>
                  <td>{fmtPct(t.erf.coveredShare)}</td>
                  <td>{fmtPct(w.erf.coveredShare)}</td>
                </tr>
                <tr>
                  <td class="text">Predicted p90 travel</td>
                  <td>{fmtS(t.predictedTravel.p90)}</td>
                  <td>{fmtS(w.predictedTravel.p90)}</td>
                </tr>
                <tr>
                  <td class="text">Newly covered / lost</td>
                  <td />
                  <td data-testid="scenario-delta">
                    +{answer!.comparison.newlyCovered} / −{answer!.comparison.lost}
                  </td>
                </tr>
              </tbody>
            </table>
          )}
          {w && (
            <p class="muted">
              {w.incidents} emergency incidents; speeds calibrated (factor{' '}
              {w.calibration.factor.toFixed(2)}); {w.clip}.
            </p>
          )}
          {placement && (
            <div data-testid="placement">
              <h4>Suggested sites</h4>
              <p>
                Covering {fmtPct(placement.best.coveredShare)} with {placement.best.sites.length}{' '}
                new stations
                {placement.refined
                  ? ` (solver: ${placement.refined.status.toLowerCase()}, gap ${fmtPct(placement.gap?.best ?? 0)})`
                  : ''}
                .
              </p>
              <ul>
                {placement.best.sites.map((s) => (
                  <li>
                    {s.lat.toFixed(5)}, {s.lon.toFixed(5)}{' '}
                    <button class="small" onClick={() => setAdded((a) => [...a, [s.lat, s.lon]])}>
                      Add
                    </button>
                  </li>
                ))}
              </ul>
            </div>
          )}
          <h4>Stations</h4>
          <div class="stations-list">
            {stations
              .filter((s) => s.onNetwork)
              .map((s) => (
                <label class="station-toggle">
                  <input
                    type="checkbox"
                    checked={!closed.includes(s.id)}
                    data-station={s.id}
                    onChange={(e) =>
                      setClosed((c) =>
                        (e.target as HTMLInputElement).checked
                          ? c.filter((x) => x !== s.id)
                          : [...c, s.id],
                      )
                    }
                  />{' '}
                  {s.id} <span class="muted">{s.units.map((u) => u.id).join(' ')}</span>
                </label>
              ))}
          </div>
        </section>
      </div>
    </div>
  );
}
