import { useEffect } from 'preact/hooks';
import { fmtPct, fmtS, SEGMENT_LABELS, SEGMENTS, useQuery } from '../api';
import { latestFireMonth } from '../city';
import { Chart, Grade } from '../components';
import { StationMap } from './performance';

/** Last day of a YYYY-MM month. */
const monthEnd = (m: string) => {
  const [y, mo] = m.split('-').map(Number);
  return new Date(Date.UTC(y!, mo!, 0)).toISOString().slice(0, 10);
};

/**
 * A Standards-of-Cover-style monthly report, laid out for A4 landscape. Headless Chromium prints
 * it to PDF once `window.reportReady` is true.
 */
export function Report({ search }: { search: string }) {
  const asked = new URLSearchParams(search).get('month');
  const { data: d, error } = useQuery(
    async (get) => {
      const month = asked ?? (await latestFireMonth());
      const f = { from: `${month}-01`, to: monthEnd(month) };
      const [all, em, days, stations, quality] = await Promise.all([
        get('/api/v1/fire/metrics', { ...f, priority: 'all' }),
        get('/api/v1/fire/metrics', { ...f, priority: 'emergency' }),
        get('/api/v1/fire/metrics', { ...f, priority: 'emergency', by: 'day' }),
        get('/api/v1/fire/metrics', { ...f, priority: 'emergency', by: 'station' }),
        get('/api/v1/fire/quality', f),
      ]);
      return { month, all, em, days, stations, quality };
    },
    [asked],
  );
  // ready once the charts and the station map have drawn (the map needs its GeoJSON and a frame)
  useEffect(() => {
    if (d)
      setTimeout(() => {
        (window as unknown as { reportReady: boolean }).reportReady = true;
      }, 1500);
  }, [d]);
  if (error) return <p class="error">{error}</p>;
  if (!d) return <p class="muted">Preparing the report…</p>;
  const { month, quality: q } = d;
  return (
    <div class="report">
      <header>
        <h1>Fire response performance — {month}</h1>
        <p class="noprint">
          <a href={`/api/v1/reports/fire.pdf?month=${month}`} download data-testid="download-pdf">
            Download PDF
          </a>{' '}
          · <a href="#/performance">Back to the dashboard</a>
        </p>
        <p>
          Baseline (actual 90th percentile) against benchmark (
          {d.em.standard?.name ?? 'no standard'}). {d.all.incidents.toLocaleString()} incidents,{' '}
          {d.em.incidents.toLocaleString()} emergency. Exact nearest-rank percentiles; n and
          exclusions shown.
        </p>
      </header>
      <table class="report-table">
        <thead>
          <tr>
            <th>Segment</th>
            <th>n</th>
            <th>Baseline p90</th>
            <th>Benchmark</th>
            <th>Within benchmark</th>
            <th>Grade</th>
            <th>All incidents p90 (n)</th>
          </tr>
        </thead>
        <tbody>
          {SEGMENTS.map((s) => {
            const e = d.em[s],
              a = d.all[s];
            return (
              <tr>
                <th>{SEGMENT_LABELS[s]}</th>
                <td>{e.n}</td>
                <td>{fmtS(e.p90)}</td>
                <td>
                  {typeof e.objective === 'number'
                    ? fmtS(e.objective)
                    : e.objective
                      ? 'by type'
                      : '–'}
                </td>
                <td>{fmtPct(e.compliance)}</td>
                <td>
                  <Grade pass={e.pass} />
                </td>
                <td>
                  {fmtS(a.p90)} ({a.n})
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
      <div class="grid2">
        <Chart
          height={230}
          option={{
            title: { text: 'Emergency 90th percentile by day', textStyle: { fontSize: 13 } },
            tooltip: {},
            legend: { top: 24 },
            grid: { left: 50, right: 10, top: 60, bottom: 30 },
            xAxis: { type: 'category', data: d.days.groups.map((g) => g.key.slice(5)) },
            yAxis: { type: 'value', name: 's' },
            series: (['totalResponse', 'travel', 'turnout'] as const).map((s) => ({
              name: SEGMENT_LABELS[s],
              type: 'line',
              data: d.days.groups.map((g) => g[s].p90),
            })),
          }}
        />
        <Chart
          height={230}
          option={{
            title: {
              text: 'Emergency total response p90 by station area',
              textStyle: { fontSize: 13 },
            },
            tooltip: {},
            grid: { left: 50, right: 10, top: 40, bottom: 30 },
            xAxis: { type: 'category', data: d.stations.groups.map((g) => g.key) },
            yAxis: { type: 'value', name: 's' },
            series: [
              {
                type: 'bar',
                data: d.stations.groups.map((g) => ({
                  value: g.totalResponse.p90,
                  itemStyle: { color: g.totalResponse.pass ? '#2f9e44' : '#e03131' },
                })),
              },
            ],
          }}
        />
      </div>
      <div class="grid2">
        <StationMap stations={d.stations} />
        <div />
      </div>
      <section>
        <h2>Data quality</h2>
        <p>
          Missing stamps:{' '}
          {Object.entries(q.missingStamps)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}
          . Out of order:{' '}
          {Object.entries(q.outOfOrder)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')}
          . Rows quarantined by imports: {q.imports.quarantined}.
        </p>
      </section>
    </div>
  );
}
