import {
  type FireService,
  publicNeighborhoods,
  publicPerformance,
  SEGMENT_DEFINITIONS,
  SEGMENTS,
} from '../../domains/fire/index.ts';

const esc = (s: unknown) => String(s ?? '–').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const secs = (v: number | null) => (v === null ? '–' : `${Math.round(v)} s`);

type Shown =
  | { withheld: true }
  | {
      n: number;
      p50: number | null;
      p90: number | null;
      objectiveSeconds: number | null;
      shareMeetingObjective: number | null;
      meetsStandard: boolean | null;
    };
const WITHHELD_ROW = (what: string) => `<td colspan="6" class="na">${what}</td>`;

/** A public period in words: "April 2020", "January 2017 to March 2017", or "all data". */
function periodText(p: { from: string | null; to: string | null }): string {
  const month = (d: string) =>
    new Date(`${d.slice(0, 7)}-01T00:00:00Z`).toLocaleDateString('en-US', {
      month: 'long',
      year: 'numeric',
      timeZone: 'UTC',
    });
  if (!p.from || !p.to)
    return p.from ? `from ${month(p.from)}` : p.to ? `up to ${month(p.to)}` : 'all data';
  return p.from.slice(0, 7) === p.to.slice(0, 7)
    ? month(p.from)
    : `${month(p.from)} to ${month(p.to)}`;
}

/** A server-rendered overview of the public figures (the same answers as /api/public/fire/*), readable without JavaScript. */
export async function overviewPage(fire: FireService): Promise<string> {
  const sections: string[] = [];
  const perf = await publicPerformance(fire, {});
  const hoods = await publicNeighborhoods(fire, {});
  const few = `fewer than ${perf.minimumGroup} calls: withheld`;
  for (const priority of ['emergency', 'all'] as const) {
    const m = perf[priority] as { incidents: number | null } & Record<string, Shown>;
    const rows = SEGMENTS.filter((s) => s in m)
      .map((s) => {
        const v = m[s]!;
        if ('withheld' in v)
          return `<tr><th title="${esc(SEGMENT_DEFINITIONS[s])}">${esc(s)}</th>${WITHHELD_ROW(few)}</tr>`;
        const grade =
          v.meetsStandard === null
            ? '<td class="na">not graded</td>'
            : `<td class="${v.meetsStandard ? 'pass' : 'fail'}">${v.meetsStandard ? 'PASS' : 'FAIL'}</td>`;
        return `<tr><th title="${esc(SEGMENT_DEFINITIONS[s])}">${esc(s)}</th><td>${v.n}</td><td>${secs(v.p50)}</td><td>${secs(v.p90)}</td>
        <td>${v.objectiveSeconds === null ? '–' : `${v.objectiveSeconds} s`}</td>
        <td>${v.shareMeetingObjective === null ? '–' : `${(v.shareMeetingObjective * 100).toFixed(1)}%`}</td>${grade}</tr>`;
      })
      .join('\n');
    sections.push(`<section><h2>${priority === 'emergency' ? 'Emergency incidents' : 'All incidents'}: ${m.incidents ?? `fewer than ${perf.minimumGroup}`} incidents</h2>
      <table><thead><tr><th>segment</th><th>n</th><th>p50</th><th>p90</th><th>objective</th><th>compliance</th><th>grade</th></tr></thead>
      <tbody>${rows}</tbody></table></section>`);
  }
  const hoodRows = hoods.neighborhoods
    .map((h) =>
      'withheld' in h
        ? `<tr><th>${esc(h.neighborhood)}</th><td colspan="3" class="na">${few}</td></tr>`
        : `<tr><th>${esc(h.neighborhood)}</th><td>${h.incidents}</td>${
            'withheld' in h.emergencyTotalResponse
              ? '<td colspan="2" class="na">too few emergencies</td>'
              : `<td>${secs(h.emergencyTotalResponse.p90)}</td><td>${h.emergencyTotalResponse.shareMeetingObjective === null ? '–' : `${(h.emergencyTotalResponse.shareMeetingObjective * 100).toFixed(0)}%`}</td>`
          }</tr>`,
    )
    .join('\n');
  sections.push(`<section><h2>By neighbourhood</h2><p>How long help took to arrive in emergencies, neighbourhood by neighbourhood: 90% of
    emergency calls saw the first unit arrive within the time shown. A neighbourhood is withheld when showing it would single out fewer than
    ${hoods.minimumGroup} calls.</p>
    <table><thead><tr><th>neighbourhood</th><th>calls</th><th>90% arrived within</th><th>within standard</th></tr></thead>
    <tbody>${hoodRows}</tbody></table></section>`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(fire.config.name)} — fire performance</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:1100px}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child{text-align:left}
.pass{background:#d8f3dc;color:#1b5e20;font-weight:600}.fail{background:#fde2e1;color:#b71c1c;font-weight:600}.na{color:#888}
</style></head><body>
<h1>${esc(fire.config.name)} — fire response performance</h1>
<p><b>${esc(periodText(perf.period))}</b> (the latest month with enough calls to show; the API takes <code>from</code> and <code>to</code> in whole months).</p>
<p>Exact nearest-rank percentiles in seconds, graded against NFPA 1710 (2020) with NFPA 1221 call handling. Hover a segment for its definition.
Our goals and how we are doing: <a href="/public/plan">the city's plan</a>. Open data: <a href="/api/public/fire/performance">performance</a>, <a href="/api/public/fire/neighborhoods">by neighbourhood</a> (JSON).</p>
${sections.join('\n')}
</body></html>`;
}
