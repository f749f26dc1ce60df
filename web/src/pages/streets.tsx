import { useEffect, useRef, useState } from 'preact/hooks';
import type { ActionEvaluation, StreetAction } from '../../../src/contracts/index.ts';
import { api, post, query, useQuery, type Get } from '../api';
import { Card, Chart, Table } from '../components';
import { plainMap, setData, type MapLibre } from '../map';

/**
 * Safer Streets for staff: a crash heatmap (screen-space, for browsing), H3 hexagons or Gi* hot spots,
 * the high-injury network and recorded actions on one map; rankings, the HIN statement, progress to the
 * target with exact intervals, and before/after evaluation of actions. Filters live in the URL.
 */
export interface StreetFilters {
  mode?: string;
  severity?: string;
  from?: string;
  to?: string;
  hours?: string;
  city?: string;
  layer: 'heat' | 'hex' | 'hot';
  kind: 'intersection' | 'corridor';
  by: 'epdo' | 'ksi' | 'ka' | 'crashes';
}

/** The filters every streets query takes (the map layer and the ranking's choice are the page's). */
const crashFilters = ({ mode, severity, from, to, hours, city }: StreetFilters) => ({
  mode,
  severity,
  from,
  to,
  hours,
  city,
});

const NO_ACTIONS: StreetAction[] = [];

/** Everything the page shows for one set of filters; hot spots and the target need enough data. */
async function loadStreets(get: Get, filters: StreetFilters) {
  const f = crashFilters(filters);
  const [crashes, rank, hot, hin, target, hex] = await Promise.all([
    get('/api/v1/streets/crashes', f),
    get('/api/v1/streets/rank', { ...f, kind: filters.kind, by: filters.by, top: 20 }),
    get('/api/v1/streets/hotspots', { ...f, top: 200 }).catch(() => ({
      cells: [],
      hot: 0,
      cold: 0,
      method: '',
    })),
    get('/api/v1/streets/hin', f),
    get('/api/v1/streets/target', { ...f, baselineYears: 3 }).catch(() => null),
    get('/api/v1/streets/hexagons', f),
  ]);
  return { crashes, rank, hot, hin, target, hex };
}
const HOT_COLOURS: Record<string, string> = {
  '3': '#b2182b',
  '2': '#ef8a62',
  '1': '#fddbc7',
  '-1': '#d1e5f0',
  '-2': '#67a9cf',
  '-3': '#2166ac',
};

export function Streets({
  filters,
  onFilters,
  role,
}: {
  filters: StreetFilters;
  onFilters: (f: StreetFilters) => void;
  role: string;
}) {
  const streets = useQuery(
    (get) => loadStreets(get, filters),
    [query(crashFilters(filters)), filters.kind, filters.by],
  );
  const data = streets.data;
  const listed = useQuery((get) => get('/api/v1/streets/actions'), []);
  const actions = listed.data ?? NO_ACTIONS;
  const [failure, setFailure] = useState('');
  const error = failure || streets.error;
  const [evaluation, setEvaluation] = useState<ActionEvaluation | null>(null);
  const mapEl = useRef<HTMLDivElement>(null);
  const map = useRef<MapLibre | null>(null);

  // the map: created once data first arrives (fitted to it), then its sources are updated
  useEffect(() => {
    if (!data || !mapEl.current) return;
    const draw = (m: MapLibre) => {
      setData(m, 'crashes', data.crashes);
      setData(m, 'hex', data.hex);
      setData(m, 'hot', {
        type: 'FeatureCollection',
        features: data.hot.cells.map((c) => ({
          type: 'Feature',
          properties: { class: String(c.class), z: c.z },
          geometry: { type: 'Polygon', coordinates: c.polygon },
        })),
      });
      setData(m, 'hin', data.hin.geojson);
      setData(m, 'actions', {
        type: 'FeatureCollection',
        features: actions.map((a) => ({
          type: 'Feature',
          properties: { title: a.title, kind: a.kind },
          geometry: { type: 'Point', coordinates: [a.lon, a.lat] },
        })),
      });
      for (const [id, on] of [
        ['heat', filters.layer === 'heat'],
        ['hex-fill', filters.layer === 'hex'],
        ['hot-fill', filters.layer === 'hot'],
      ] as const) {
        m.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
      }
    };
    if (map.current) {
      draw(map.current);
      return;
    }
    let lo = [Infinity, Infinity],
      hi = [-Infinity, -Infinity];
    for (const f of data.crashes.features) {
      const [x, y] = f.geometry.coordinates;
      lo = [Math.min(lo[0]!, x!), Math.min(lo[1]!, y!)];
      hi = [Math.max(hi[0]!, x!), Math.max(hi[1]!, y!)];
    }
    if (!Number.isFinite(lo[0]!)) return;
    void plainMap(
      mapEl.current,
      [
        [lo[0]!, lo[1]!],
        [hi[0]!, hi[1]!],
      ],
      'SWITRS (CHP), geocoded by UC Berkeley SafeTREC TIMS',
    ).then((m) => {
      map.current = m;
      const empty = {
        type: 'geojson' as const,
        data: { type: 'FeatureCollection' as const, features: [] },
      };
      for (const s of ['crashes', 'hex', 'hot', 'hin', 'actions']) m.addSource(s, empty);
      // screen-space density for browsing; the radius doubles per zoom level so it stays put on the ground
      m.addLayer({
        id: 'heat',
        type: 'heatmap',
        source: 'crashes',
        paint: {
          'heatmap-weight': ['match', ['get', 'severity'], 'K', 1, 'A', 0.6, 'B', 0.25, 0.12],
          'heatmap-radius': ['interpolate', ['exponential', 2], ['zoom'], 8, 4, 16, 1024],
          'heatmap-color': [
            'interpolate',
            ['linear'],
            ['heatmap-density'],
            0,
            'rgba(255,255,255,0)',
            0.2,
            '#fee391',
            0.5,
            '#fe9929',
            0.8,
            '#d95f0e',
            1,
            '#993404',
          ],
        },
      });
      m.addLayer({
        id: 'hex-fill',
        type: 'fill',
        source: 'hex',
        paint: {
          'fill-opacity': 0.75,
          'fill-color': [
            'interpolate',
            ['linear'],
            ['get', 'epdo'],
            0,
            '#fff5eb',
            50,
            '#fdae6b',
            300,
            '#e6550d',
            1500,
            '#7f2704',
          ],
        },
      });
      m.addLayer({
        id: 'hot-fill',
        type: 'fill',
        source: 'hot',
        paint: {
          'fill-opacity': 0.8,
          'fill-color': [
            'match',
            ['get', 'class'],
            ...Object.entries(HOT_COLOURS).flat(),
            '#ccc',
          ] as unknown as string,
        },
      });
      m.addLayer({
        id: 'hin-line',
        type: 'line',
        source: 'hin',
        paint: { 'line-color': '#6a1b9a', 'line-width': 4, 'line-opacity': 0.85 },
      });
      m.addLayer({
        id: 'ka',
        type: 'circle',
        source: 'crashes',
        minzoom: 12,
        filter: ['in', ['get', 'severity'], ['literal', ['K', 'A']]],
        paint: {
          'circle-radius': 4,
          'circle-color': ['match', ['get', 'severity'], 'K', '#000', '#c92a2a'],
          'circle-stroke-color': '#fff',
          'circle-stroke-width': 1,
        },
      });
      m.addLayer({
        id: 'actions',
        type: 'circle',
        source: 'actions',
        paint: {
          'circle-radius': 7,
          'circle-color': '#1864ab',
          'circle-stroke-color': '#fff',
          'circle-stroke-width': 2,
        },
      });
      m.on('click', (e) => {
        const form = document.querySelector<HTMLFormElement>('form.action');
        if (form) {
          (form.elements.namedItem('lat') as HTMLInputElement).value = e.lngLat.lat.toFixed(6);
          (form.elements.namedItem('lon') as HTMLInputElement).value = e.lngLat.lng.toFixed(6);
        }
      });
      draw(m);
    });
  }, [data, actions, filters.layer]);

  const set = (k: keyof StreetFilters) => (e: Event) =>
    onFilters({ ...filters, [k]: (e.target as HTMLInputElement).value || undefined });
  const s = data?.crashes.summary;
  const addAction = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const body = Object.fromEntries([...f.entries()].filter(([, v]) => v !== ''));
    setFailure('');
    try {
      await post('/api/v1/streets/actions', body);
      (e.target as HTMLFormElement).reset();
      listed.reload();
    } catch (err) {
      setFailure((err as Error).message);
    }
  };
  const t = data?.target;
  return (
    <div class="page" data-testid="streets">
      <h2>Safer streets</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Mode{' '}
          <select name="mode" value={filters.mode ?? ''} onChange={set('mode')}>
            <option value="">All</option>
            {['pedestrian', 'bicycle', 'motorcycle', 'other'].map((m) => (
              <option value={m}>{m}</option>
            ))}
          </select>
        </label>
        <label>
          Severity{' '}
          <select name="severity" value={filters.severity ?? ''} onChange={set('severity')}>
            <option value="">All</option>
            <option value="K,A">Fatal + serious (KA)</option>
            <option value="K">Fatal (K)</option>
            <option value="B,C">Minor (B, C)</option>
          </select>
        </label>
        <label>
          From{' '}
          <input
            name="from"
            size={5}
            placeholder="year"
            value={filters.from ?? ''}
            onChange={set('from')}
          />
        </label>
        <label>
          To{' '}
          <input
            name="to"
            size={5}
            placeholder="year"
            value={filters.to ?? ''}
            onChange={set('to')}
          />
        </label>
        <label>
          Hours{' '}
          <input
            name="hours"
            size={5}
            placeholder="e.g. 22-5"
            value={filters.hours ?? ''}
            onChange={set('hours')}
          />
        </label>
        <label>
          Jurisdiction{' '}
          <input
            name="city"
            size={14}
            placeholder="e.g. PASO ROBLES"
            value={filters.city ?? ''}
            onChange={set('city')}
          />
        </label>
        <label>
          Map{' '}
          <select name="layer" value={filters.layer} onChange={set('layer')}>
            <option value="heat">Heatmap</option>
            <option value="hex">Hexagons (EPDO)</option>
            <option value="hot">Hot spots (Gi*)</option>
          </select>
        </label>
      </form>
      {error && <p class="error">{error}</p>}
      {s && (
        <div class="tiles" data-testid="streets-tiles">
          <div class="tile">
            <b>{s.crashes.toLocaleString()}</b>
            <span>crashes</span>
          </div>
          <div class="tile fail">
            <b>{s.bySeverity.K ?? 0}</b>
            <span>fatal (K)</span>
          </div>
          <div class="tile warn">
            <b>{s.bySeverity.A ?? 0}</b>
            <span>serious injury (A)</span>
          </div>
          <div class="tile">
            <b>{s.killed}</b>
            <span>people killed</span>
          </div>
          <div class="tile">
            <b>{s.epdo.value.toLocaleString()}</b>
            <span>EPDO ({s.epdo.weights})</span>
          </div>
          <div class="tile">
            <b>{data!.crashes.excluded.noLocation}</b>
            <span>without a location (not mapped)</span>
          </div>
        </div>
      )}
      <div class="grid2">
        <section class="card">
          <header>
            <h3>Map</h3>
            <small>
              {filters.layer === 'heat'
                ? 'visual density, not a statistic'
                : filters.layer === 'hex'
                  ? 'H3 resolution 9, EPDO'
                  : `${data?.hot.hot ?? 0} hot, ${data?.hot.cold ?? 0} cold (FDR)`}{' '}
              · purple: high-injury network · blue dots: actions
            </small>
          </header>
          <div ref={mapEl} class="map" style={{ height: '460px' }} data-testid="streets-map" />
        </section>
        <section class="card" data-testid="hin">
          <header>
            <h3>High-injury network</h3>
          </header>
          {data && (
            <>
              <p class="statement">
                <b>{data.hin.statement}</b>
              </p>
              <p class="muted">
                {data.hin.method === 'network'
                  ? 'Loaded road network'
                  : 'Road names (no network loaded)'}
                ; windows {data.hin.parameters.windowMiles.toFixed(2)} mi every{' '}
                {data.hin.parameters.stepMiles.toFixed(2)} mi; {data.hin.parameters.scoreLabel};
                streets taken until they hold {(data.hin.parameters.cover * 100).toFixed(0)}% of
                KSI. Network: {data.hin.network.miles.toFixed(0)} mi ({data.hin.network.basis}).
              </p>
              <table>
                <thead>
                  <tr>
                    <th>Corridor</th>
                    <th>Miles</th>
                    <th>KA</th>
                    <th>KSI</th>
                  </tr>
                </thead>
                <tbody>
                  {data.hin.hin.corridors.slice(0, 12).map((c) => (
                    <tr>
                      <td class="text">{c.name}</td>
                      <td>{c.miles.toFixed(2)}</td>
                      <td>{c.ka}</td>
                      <td>{c.ksi}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </>
          )}
        </section>
      </div>
      {t && (
        <Card
          title={`Progress to target: ${t.label}`}
          note={`baseline ${Math.round(t.baseline.value)} (mean of ${t.baseline.years.join(', ')}), target ${Math.round(t.target.value)} by ${t.target.year} (−${(t.target.reduction * 100).toFixed(0)}%)`}
        >
          {t.latest12 && (
            <p data-testid="target-verdict" class={t.latest12.onTrack ? 'pass-text' : 'fail-text'}>
              Latest {t.latest12.period}: <b>{t.latest12.value}</b> (95% interval{' '}
              {Math.round(t.latest12.low)}–{Math.round(t.latest12.high)}); {t.latest12.verdict}.
            </p>
          )}
          <Chart
            height={280}
            option={{
              tooltip: { trigger: 'axis' },
              legend: { top: 0, data: ['Count', '95% interval', 'Glide path'] },
              grid: { left: 50, right: 70, top: 40, bottom: 30 },
              xAxis: {
                type: 'category',
                data: t.years.map((y) => String(y.year) + (y.complete ? '' : '*')),
              },
              yAxis: { type: 'value', scale: true },
              series: [
                {
                  name: 'low',
                  type: 'line',
                  data: t.years.map((y) => y.low),
                  stack: 'ci',
                  lineStyle: { opacity: 0 },
                  symbol: 'none',
                  tooltip: { show: false },
                },
                {
                  name: '95% interval',
                  type: 'line',
                  data: t.years.map((y) => y.high - y.low),
                  stack: 'ci',
                  lineStyle: { opacity: 0 },
                  symbol: 'none',
                  areaStyle: { color: '#adb5bd', opacity: 0.35 },
                },
                {
                  name: 'Count',
                  type: 'line',
                  data: t.years.map((y) => ({
                    value: y.value,
                    itemStyle: {
                      color: y.onTrack === null ? '#495057' : y.onTrack ? '#2b8a3e' : '#c92a2a',
                    },
                  })),
                  symbolSize: 9,
                  lineStyle: { color: '#495057' },
                  markLine: {
                    symbol: 'none',
                    data: [{ yAxis: t.target.value, name: 'target' }],
                    lineStyle: { color: '#1864ab' },
                    label: { formatter: `target ${Math.round(t.target.value)}` },
                  },
                },
                {
                  name: 'Glide path',
                  type: 'line',
                  data: t.years.map((y) => y.glidePath),
                  lineStyle: { type: 'dashed', color: '#1864ab' },
                  symbol: 'none',
                },
              ],
            }}
          />
          <Chart
            height={200}
            option={{
              tooltip: { trigger: 'axis' },
              grid: { left: 50, right: 20, top: 20, bottom: 30 },
              title: { text: 'Rolling 12 months', textStyle: { fontSize: 12 } },
              xAxis: { type: 'category', data: t.months.map((m) => m.month) },
              yAxis: { type: 'value', scale: true },
              series: [{ type: 'line', data: t.months.map((m) => m.rolling12), symbol: 'none' }],
            }}
          />
        </Card>
      )}
      <div class="grid2">
        {data && (
          <Table
            title={`Top ${filters.kind === 'intersection' ? 'intersections' : 'corridors'} by ${filters.by}`}
            id="ranking"
            headers={[
              'Rank',
              filters.kind === 'intersection' ? 'Intersection' : 'Corridor',
              'Crashes',
              'KA',
              'KSI',
              'EPDO',
            ]}
            rows={data.rank.locations.map((l) => [l.rank, l.name, l.crashes, l.ka, l.ksi, l.epdo])}
          />
        )}
        {data && (
          <Table
            title="Hot spots (Gi*, FDR-corrected; a hexagon can be hot through its neighbours)"
            id="hotspots"
            headers={['Hexagon', 'EPDO', 'z', 'q', 'Confidence']}
            rows={data.hot.cells
              .filter((c) => c.class > 0)
              .slice(0, 20)
              .map((c) => [
                c.cell,
                c.value,
                Number(c.z.toFixed(2)),
                c.q < 0.001 ? '< 0.001' : Number(c.q.toFixed(3)),
                `${[0, 90, 95, 99][c.class]}%`,
              ])}
          />
        )}
      </div>
      <p class="filters">
        Rank{' '}
        <select name="kind" value={filters.kind} onChange={set('kind')}>
          <option value="intersection">intersections</option>
          <option value="corridor">corridors</option>
        </select>{' '}
        by{' '}
        <select name="by" value={filters.by} onChange={set('by')}>
          <option value="epdo">EPDO</option>
          <option value="ksi">KSI</option>
          <option value="ka">KA crashes</option>
          <option value="crashes">crashes</option>
        </select>
      </p>
      <Card
        title="Actions: engineering, education, enforcement"
        note="click the map to place a new action"
      >
        <table>
          <thead>
            <tr>
              <th>Action</th>
              <th>Kind</th>
              <th>Started</th>
              <th>Radius</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {actions.map((a) => (
              <tr>
                <td class="text">{a.title}</td>
                <td>{a.kind}</td>
                <td>{a.started}</td>
                <td>{a.radiusM} m</td>
                <td>
                  <button
                    class="small"
                    onClick={() => {
                      setFailure('');
                      api('/api/v1/streets/evaluate', { ids: a.id })
                        .then(setEvaluation)
                        .catch((e: Error) => setFailure(e.message));
                    }}
                  >
                    Evaluate
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
        {evaluation && <Evaluation r={evaluation} />}
        {role !== 'viewer' && (
          <form class="action filters" onSubmit={addAction}>
            <select name="kind">
              <option>engineering</option>
              <option>education</option>
              <option>enforcement</option>
            </select>
            <input name="title" placeholder="What was done" required minLength={3} size={24} />
            <input name="lat" placeholder="lat" size={9} required />
            <input name="lon" placeholder="lon" size={10} required />
            <input name="radiusM" placeholder="radius m" size={6} />
            <input name="started" type="date" required />
            <input name="road" placeholder="road (optional)" size={12} />
            <button>Record action</button>
          </form>
        )}
      </Card>
    </div>
  );
}

function Evaluation({ r }: { r: ActionEvaluation }) {
  const { naive, comparisonGroup: cg } = r;
  return (
    <div class="evaluation" data-testid="evaluation">
      <p>
        <b>Naive CMF {naive.cmf === null ? '–' : naive.cmf.toFixed(2)}</b> ({naive.before} →{' '}
        {naive.after} crashes). <span class="muted">{naive.caution}</span>
      </p>
      {'unavailable' in cg ? (
        <p>
          <b>Comparison-group CMF –</b> {cg.unavailable}
        </p>
      ) : (
        <p>
          <b>Comparison-group CMF {cg.cmf.toFixed(2)}</b> (SE {cg.se.toFixed(2)}, {cg.significance})
        </p>
      )}
      <p class="muted">
        Empirical Bayes needs a safety performance function and traffic volumes:{' '}
        <code>cityops streets action evaluate ID --spf spf.json</code>.
      </p>
    </div>
  );
}
