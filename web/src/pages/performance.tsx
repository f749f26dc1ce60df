import { useEffect, useRef } from 'preact/hooks';
import type { GroupedFireMetrics, SegmentId } from '../../../src/contracts/index.ts';
import {
  fmtPct,
  fmtS,
  query,
  SEGMENT_LABELS,
  SEGMENTS,
  useQuery,
  type Filters,
  type Get,
} from '../api';
import { Card, Chart, FilterBar, Grade, Table } from '../components';
import { cityMap, type MapLibre } from '../map';

const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

/** Everything the dashboard shows, for one set of filters. */
async function loadDashboard(get: Get, filters: Filters) {
  const days =
    filters.from && filters.to ? (Date.parse(filters.to) - Date.parse(filters.from)) / 86400000 : 0;
  const trendBy = days > 0 && days <= 92 ? 'day' : 'month';
  const [metrics, trend, stations, volume, uhu, concurrency, reliability, erf, quality] =
    await Promise.all([
      get('/api/v1/fire/metrics', filters),
      get('/api/v1/fire/metrics', { ...filters, by: trendBy }),
      get('/api/v1/fire/metrics', { ...filters, by: 'station' }),
      get('/api/v1/fire/volume', filters),
      get('/api/v1/fire/utilization', filters),
      get('/api/v1/fire/concurrency', filters),
      get('/api/v1/fire/reliability', filters),
      get('/api/v1/fire/erf', filters),
      get('/api/v1/fire/quality', filters),
    ]);
  return { metrics, trend, trendBy, stations, volume, uhu, concurrency, reliability, erf, quality };
}
type Data = Awaited<ReturnType<typeof loadDashboard>>;

export function readFilters(search: string): Filters {
  const p = new URLSearchParams(search);
  return {
    from: p.get('from') ?? undefined,
    to: p.get('to') ?? undefined,
    priority: p.get('priority') === 'all' ? 'all' : 'emergency',
    category: p.get('category') ?? undefined,
    station: p.get('station') ?? undefined,
    unitType: p.get('unitType') ?? undefined,
  };
}

export function Performance({
  search,
  onFilters,
}: {
  search: string;
  onFilters: (f: Filters) => void;
}) {
  const filters = readFilters(search);
  const { data, error } = useQuery((get) => loadDashboard(get, filters), [query(filters)]);

  return (
    <div class="page">
      <FilterBar value={filters} onChange={onFilters} />
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!data ? <p class="muted">Loading…</p> : <Dashboard data={data} filters={filters} />}
    </div>
  );
}

function Dashboard({ data, filters }: { data: Data; filters: Filters }) {
  const m = data.metrics;
  const segRows = SEGMENTS.map((s) => [
    SEGMENT_LABELS[s]!,
    m[s].n,
    fmtS(m[s].p50),
    fmtS(m[s].p90),
    typeof m[s].objective === 'number' ? fmtS(m[s].objective) : m[s].objective ? 'varies' : '–',
    fmtPct(m[s].compliance),
    m[s].pass === null ? 'not graded' : m[s].pass ? 'PASS' : 'FAIL',
    Object.entries(m[s].excluded)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || '–',
  ]);
  const trendSegs: SegmentId[] = ['totalResponse', 'turnout', 'travel', 'callProcessing'];
  return (
    <>
      <section class="kpis" data-testid="kpis">
        {(['callProcessing', 'turnout', 'travel', 'totalResponse'] as const).map((s) => (
          <div
            class={`kpi ${m[s].pass === null ? '' : m[s].pass ? 'pass' : 'fail'}`}
            data-segment={s}
          >
            <small>{SEGMENT_LABELS[s]} · 90th percentile</small>
            <b data-testid={`p90-${s}`}>{fmtS(m[s].p90)}</b>
            <span>
              n {m[s].n.toLocaleString()} · {fmtPct(m[s].compliance)} within{' '}
              {typeof m[s].objective === 'number' ? fmtS(m[s].objective) : 'objective'}{' '}
              <Grade pass={m[s].pass} />
            </span>
          </div>
        ))}
      </section>
      <p class="muted">
        {m.incidents.toLocaleString()} incidents, {m.unitResponses.toLocaleString()} unit responses;
        graded against {m.standard?.name ?? 'no standard'}. Percentiles are exact (nearest rank);
        every excluded value is counted.
      </p>
      <Table
        title="Response-time segments"
        id="segments"
        headers={['Segment', 'n', 'p50', 'p90', 'Objective', 'Compliance', 'Grade', 'Excluded']}
        rows={segRows}
        cellClass={(r, c) =>
          c === 6
            ? segRows[r]![6] === 'PASS'
              ? 'pass'
              : segRows[r]![6] === 'FAIL'
                ? 'fail'
                : 'na'
            : ''
        }
      />
      <div class="grid2">
        <Card
          title="Where the time goes (medians, first unit)"
          note="call processing + turnout + travel"
        >
          <Chart
            height={160}
            option={{
              tooltip: {},
              legend: { top: 0 },
              grid: { left: 10, right: 20, top: 30, bottom: 20, containLabel: true },
              xAxis: { type: 'value', name: 'seconds' },
              yAxis: { type: 'category', data: ['median incident'] },
              series: (
                [
                  ['Call processing', 'callProcessing'],
                  ['Turnout', 'firstUnitTurnout'],
                  ['Travel', 'firstUnitTravel'],
                ] as const
              ).map(([name, s]) => ({
                name,
                type: 'bar',
                stack: 'total',
                data: [m[s].p50 ?? 0],
              })),
            }}
          />
        </Card>
        <Card
          title="ERF: share of fires with the full force on scene"
          note={`${data.erf.persons} persons; ${data.erf.assembled} of ${data.erf.incidents} incidents assembled`}
        >
          <Chart
            height={200}
            option={{
              tooltip: { trigger: 'axis' },
              grid: { left: 40, right: 20, top: 20, bottom: 30 },
              xAxis: { type: 'value', name: 'minutes after call' },
              yAxis: {
                type: 'value',
                max: 1,
                axisLabel: { formatter: (v: number) => `${v * 100}%` },
              },
              series: [
                {
                  type: 'line',
                  step: 'end',
                  data: data.erf.minutes.map((p) => [p.minute, p.share]),
                  areaStyle: {},
                },
              ],
            }}
          />
        </Card>
      </div>
      <Card title={`90th percentile by ${data.trendBy}`}>
        <Chart
          option={{
            tooltip: { trigger: 'axis' },
            legend: {},
            grid: { left: 50, right: 20, top: 40, bottom: 30 },
            xAxis: { type: 'category', data: data.trend.groups.map((g) => g.key) },
            yAxis: { type: 'value', name: 'seconds' },
            series: trendSegs.map((s) => ({
              name: SEGMENT_LABELS[s],
              type: 'line',
              data: data.trend.groups.map((g) => g[s].p90),
            })),
          }}
        />
      </Card>
      <div class="grid2">
        <Card
          title="Calls by hour of week"
          note={`${data.volume.incidents.toLocaleString()} incidents`}
        >
          <Chart
            height={240}
            option={{
              tooltip: {},
              grid: { left: 40, right: 10, top: 10, bottom: 60 },
              xAxis: { type: 'category', data: Array.from({ length: 24 }, (_, h) => String(h)) },
              yAxis: { type: 'category', data: DAYS },
              visualMap: {
                min: 0,
                max: Math.max(1, ...data.volume.hourOfWeek.flat()),
                orient: 'horizontal',
                left: 'center',
                bottom: 0,
                calculable: true,
              },
              series: [
                {
                  type: 'heatmap',
                  data: data.volume.hourOfWeek.flatMap((row, d) => row.map((v, h) => [h, d, v])),
                },
              ],
            }}
          />
        </Card>
        <StationMap stations={data.stations} />
      </div>
      <Table
        title="By station area"
        headers={[
          'Station',
          'Incidents',
          'Total response p90',
          'Compliance',
          'Grade',
          'Travel p90 (first unit)',
        ]}
        rows={data.stations.groups.map((g) => [
          g.key,
          g.incidents,
          fmtS(g.totalResponse.p90),
          fmtPct(g.totalResponse.compliance),
          g.totalResponse.pass === null ? '–' : g.totalResponse.pass ? 'PASS' : 'FAIL',
          fmtS(g.firstUnitTravel!.p90),
        ])}
        cellClass={(r, c) =>
          c === 4 ? (data.stations.groups[r]!.totalResponse.pass ? 'pass' : 'fail') : ''
        }
      />
      <div class="grid2">
        <Table
          title="Unit hour utilization by unit type"
          headers={['Unit type', 'Units', 'Mean UHU', 'Max UHU', 'Busiest unit']}
          rows={(data.uhu.byUnitType ?? []).map((t) => [
            t.unitType,
            t.units,
            t.meanUhu.toFixed(3),
            t.maxUhu.toFixed(3),
            t.maxUnit,
          ])}
          cellClass={(r, c) => (c === 3 ? uhuClass(data.uhu.byUnitType![r]!.maxUhu) : '')}
        />
        <Table
          title="Busiest units"
          headers={['Unit', 'Type', 'Responses', 'Busy hours', 'UHU']}
          rows={(data.uhu.units ?? [])
            .slice(0, 12)
            .map((u) => [
              u.unit,
              u.unitType,
              u.responses,
              u.busyHours.toFixed(1),
              u.uhu.toFixed(3),
            ])}
          cellClass={(r, c) => (c === 4 ? uhuClass(data.uhu.units![r]!.uhu) : '')}
        />
      </div>
      <Card
        title="Unit hour utilization by unit and hour of day (the 20 busiest units)"
        note="share of each hour the unit was committed; 0.30 and above is unsustainable"
      >
        <Chart
          height={420}
          option={{
            tooltip: {},
            grid: { left: 60, right: 10, top: 10, bottom: 60 },
            xAxis: { type: 'category', data: Array.from({ length: 24 }, (_, h) => String(h)) },
            yAxis: {
              type: 'category',
              data: (data.uhu.units ?? [])
                .slice(0, 20)
                .map((u) => u.unit)
                .reverse(),
            },
            visualMap: {
              min: 0,
              max: 0.6,
              orient: 'horizontal',
              left: 'center',
              bottom: 0,
              calculable: true,
              inRange: { color: ['#f8f9fa', '#ffd43b', '#e03131'] },
            },
            series: [
              {
                type: 'heatmap',
                data: (data.uhu.units ?? [])
                  .slice(0, 20)
                  .reverse()
                  .flatMap((u, row) =>
                    u.byHour.map((v, h) => [h, row, Math.round(v * 1000) / 1000]),
                  ),
              },
            ],
          }}
        />
      </Card>
      <div class="grid2">
        <Card title="Unit hour utilization by hour of day (all units)">
          <Chart
            height={200}
            option={{
              tooltip: {},
              grid: { left: 40, right: 10, top: 10, bottom: 30 },
              xAxis: { type: 'category', data: Array.from({ length: 24 }, (_, h) => String(h)) },
              yAxis: { type: 'value' },
              series: [{ type: 'bar', data: data.uhu.byHour ?? [] }],
            }}
          />
        </Card>
        <Table
          title="Concurrency: first-unit travel by calls already running in the same area"
          headers={['In progress', 'n', 'p50', 'p90']}
          rows={data.concurrency.firstUnitTravelByLevel.map((l) => [
            l.level,
            l.n,
            fmtS(l.p50),
            fmtS(l.p90),
          ])}
        />
      </div>
      <div class="grid2">
        <Table
          title="First-due reliability"
          headers={[
            'Station',
            'Incidents',
            'First-due arrived first',
            'Reliability',
            'First-due all busy',
            'Covered by',
          ]}
          rows={data.reliability.stations.map((s) => [
            s.station,
            s.incidents,
            s.firstDueFirst,
            fmtPct(s.reliability),
            s.firstDueBusy,
            Object.entries(s.coveredBy)
              .sort((a, b) => b[1] - a[1])
              .slice(0, 3)
              .map(([k, v]) => `${k} (${v})`)
              .join(', '),
          ])}
        />
        <Table
          title="Data quality"
          headers={['Check', 'Count']}
          rows={[
            ...Object.entries(data.quality.missingStamps).map(
              ([k, v]) => [`missing ${k}`, v] as [string, number],
            ),
            ...Object.entries(data.quality.outOfOrder).map(([k, v]) => [k, v] as [string, number]),
            ...Object.entries(data.quality.overCap).map(
              ([k, v]) => [`${k} over the cap`, v] as [string, number],
            ),
            ['missing location', data.quality.missingCoordinates],
            ['rows quarantined by imports', data.quality.imports.quarantined],
          ]}
        />
      </div>
      <p class="muted">
        Share this view: the address bar holds the filters. The same figures:{' '}
        <code>npx cityops fire metrics {cliArgs(filters)}</code>
      </p>
    </>
  );
}

const uhuClass = (x: number) => (x >= 0.3 ? 'fail' : x >= 0.16 ? 'warn' : 'pass');

function cliArgs(f: Filters): string {
  return Object.entries(f)
    .filter(([, v]) => v)
    .map(([k, v]) => `--${k === 'unitType' ? 'unit-type' : k} ${v}`)
    .join(' ');
}

/** Stations coloured by whether their area's total response meets the standard. */
export function StationMap({ stations }: { stations: GroupedFireMetrics }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let map: MapLibre | null = null;
    let cancelled = false;
    void cityMap(el.current!).then(({ map: m, stations: layer }) => {
      if (cancelled) return m.remove();
      map = m;
      const byArea = new Map(stations.groups.map((g) => [Number(g.key), g]));
      const features = layer.features.map((f) => {
        const g = byArea.get(Number(f.properties?.station));
        return {
          ...f,
          properties: {
            ...f.properties,
            grade:
              !g || g.totalResponse.pass === null ? 'none' : g.totalResponse.pass ? 'pass' : 'fail',
          },
        };
      });
      m.addSource('graded', { type: 'geojson', data: { type: 'FeatureCollection', features } });
      m.addLayer({
        id: 'graded',
        type: 'circle',
        source: 'graded',
        paint: {
          'circle-radius': 8,
          'circle-stroke-width': 2,
          'circle-stroke-color': '#fff',
          'circle-color': [
            'match',
            ['get', 'grade'],
            'pass',
            '#2f9e44',
            'fail',
            '#e03131',
            '#adb5bd',
          ],
        },
      });
    });
    return () => {
      cancelled = true;
      map?.remove();
    };
  }, [JSON.stringify(stations.groups.map((g) => [g.key, g.totalResponse?.pass]))]);
  return (
    <Card title="Stations: total response against the standard" note="green meets it, red does not">
      <div ref={el} class="minimap" />
    </Card>
  );
}
