import { publicNeighborhoods } from '../fire/public.ts';
import type { FireService } from '../fire/service.ts';
import { SEGMENT_DEFINITIONS } from '../fire/metrics.ts';
import { SEGMENTS } from '../fire/standards.ts';

const esc = (s: unknown) => String(s ?? '–').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const secs = (v: number | null) => (v === null ? '–' : `${Math.round(v)} s`);

type Seg = { n: number; p50: number | null; p90: number | null; compliance: number | null; pass: boolean | null; objective: unknown; excluded: Record<string, number> };

/** A server-rendered overview of performance, readable without JavaScript. */
export async function overviewPage(fire: FireService): Promise<string> {
  const sections: string[] = [];
  const hoods = await publicNeighborhoods(fire, {});
  for (const priority of ['emergency', 'all'] as const) {
    const m = (await fire.metrics({ priority })) as unknown as Record<string, unknown>;
    const rows = SEGMENTS.map((s) => {
      const v = m[s] as Seg;
      const grade = v.pass === null ? '<td class="na">not graded</td>' : `<td class="${v.pass ? 'pass' : 'fail'}">${v.pass ? 'PASS' : 'FAIL'}</td>`;
      const excl = Object.entries(v.excluded).map(([k, n]) => `${esc(k)} ${n}`).join(', ') || '–';
      return `<tr><th title="${esc(SEGMENT_DEFINITIONS[s])}">${esc(s)}</th><td>${v.n}</td><td>${secs(v.p50)}</td><td>${secs(v.p90)}</td>
        <td>${typeof v.objective === 'number' ? `${v.objective} s` : v.objective ? 'varies' : '–'}</td>
        <td>${v.compliance === null ? '–' : `${(v.compliance * 100).toFixed(1)}%`}</td>${grade}<td class="excl">${excl}</td></tr>`;
    }).join('\n');
    sections.push(`<section><h2>${priority === 'emergency' ? 'Emergency incidents' : 'All incidents'}: ${m.incidents} incidents, ${m.unitResponses} unit responses</h2>
      <table><thead><tr><th>segment</th><th>n</th><th>p50</th><th>p90</th><th>objective</th><th>compliance</th><th>grade</th><th>excluded</th></tr></thead>
      <tbody>${rows}</tbody></table></section>`);
  }
  const hoodRows = hoods.neighborhoods.map((h) => 'withheld' in h
    ? `<tr><th>${esc(h.neighborhood)}</th><td colspan="4" class="na">fewer than ${hoods.minimumGroup} incidents: withheld</td></tr>`
    : `<tr><th>${esc(h.neighborhood)}</th><td>${h.incidents}</td><td>${h.emergencyIncidents}</td><td>${secs(h.totalResponse.p90)}</td>
        <td>${h.totalResponse.shareMeetingObjective === null ? '–' : `${(h.totalResponse.shareMeetingObjective * 100).toFixed(0)}%`}</td></tr>`).join('\n');
  sections.push(`<section><h2>By neighbourhood</h2><p>How long help took to arrive in emergencies, neighbourhood by neighbourhood: 90% of
    emergency calls saw the first unit arrive within the time shown.</p>
    <table><thead><tr><th>neighbourhood</th><th>calls</th><th>emergencies</th><th>90% arrived within</th><th>within standard</th></tr></thead>
    <tbody>${hoodRows}</tbody></table></section>`);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>CityOps — fire performance</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#1b1f24;max-width:1100px}
table{border-collapse:collapse;width:100%;margin-bottom:2rem}th,td{padding:.35rem .6rem;border-bottom:1px solid #ddd;text-align:right}
th:first-child,td.excl{text-align:left}td.excl{color:#555;font-size:.85em}
.pass{background:#d8f3dc;color:#1b5e20;font-weight:600}.fail{background:#fde2e1;color:#b71c1c;font-weight:600}.na{color:#888}
</style></head><body>
<h1>CityOps — fire response performance</h1>
<p>Exact nearest-rank percentiles in seconds, graded against NFPA 1710 (2020) with NFPA 1221 call handling. Hover a segment for its definition.
Our goals and how we are doing: <a href="/public/plan">the city's plan</a>. Open data: <a href="/api/public/fire/performance">performance</a>, <a href="/api/public/fire/neighborhoods">by neighbourhood</a> (JSON).</p>
${sections.join('\n')}
</body></html>`;
}
