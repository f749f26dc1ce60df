import { MIN_GROUP } from '../../platform/small-groups.ts';
import type { Store } from '../../platform/db.ts';
import { publicStreets, type PublicStreets } from '../../domains/collisions/index.ts';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const n0 = (x: number) => Math.round(x).toLocaleString('en-US');
/** A public count: withheld (null) reads "fewer than 10"; absent is none. */
const few = (x: number | null | undefined) =>
  x === null
    ? `<span class="muted" title="withheld: fewer than ${MIN_GROUP}">&lt;${MIN_GROUP}</span>`
    : n0(x ?? 0);

/** Yearly counts as dots with their 95% intervals, the glide path and the target: readable without JavaScript. */
function targetChart(t: NonNullable<PublicStreets['target']>): string {
  const W = 720,
    H = 260,
    L = 56,
    R = 16,
    T = 16,
    B = 32;
  const ys = t.years;
  const max = Math.max(...ys.map((y) => y.high), t.baseline.value) * 1.05,
    min = Math.min(...ys.map((y) => y.low), t.target.value) * 0.9;
  const x = (i: number) => L + (i + 0.5) * ((W - L - R) / ys.length);
  const y = (v: number) => T + (H - T - B) * (1 - (v - min) / (max - min));
  const ticks = Array.from({ length: 5 }, (_, i) => min + ((max - min) * i) / 4);
  const glide = ys
    .map((d, i) =>
      d.glidePath === null ? null : `${x(i).toFixed(1)},${y(d.glidePath).toFixed(1)}`,
    )
    .filter(Boolean)
    .join(' ');
  return `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(t.label)} by year with 95% intervals, glide path and target" class="chart">
  ${ticks.map((v) => `<line x1="${L}" x2="${W - R}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${L - 6}" y="${y(v) + 4}" text-anchor="end">${n0(v)}</text>`).join('')}
  <line x1="${L}" x2="${W - R}" y1="${y(t.target.value)}" y2="${y(t.target.value)}" class="target"/>
  <text x="${W - R}" y="${y(t.target.value) - 5}" text-anchor="end" class="target-label">target ${n0(t.target.value)} by ${t.target.year}</text>
  ${glide ? `<polyline points="${glide}" class="glide"/>` : ''}
  ${ys
    .map(
      (
        d,
        i,
      ) => `<g class="${d.onTrack === null ? 'na' : d.onTrack ? 'pass' : 'fail'}"><line x1="${x(i)}" x2="${x(i)}" y1="${y(d.low)}" y2="${y(d.high)}" class="ci"/>
    <circle cx="${x(i)}" cy="${y(d.value)}" r="5"><title>${d.year}: ${d.value} (95% interval ${n0(d.low)}–${n0(d.high)})${d.complete ? '' : ', partial year'}</title></circle>
    <text x="${x(i)}" y="${H - 10}" text-anchor="middle">${d.year}${d.complete ? '' : '*'}</text></g>`,
    )
    .join('')}
</svg>`;
}

/** Hexagon counts drawn as an SVG map (equirectangular at the data's latitude: fine at county scale). */
function hexMap(h: PublicStreets['hexagons']): string {
  if (!h.features.length) return '<p class="muted">No hexagon has enough crashes to show.</p>';
  let minX = Infinity,
    maxX = -Infinity,
    minY = Infinity,
    maxY = -Infinity;
  for (const f of h.features)
    for (const [lon, lat] of f.geometry.coordinates[0]!) {
      minX = Math.min(minX, lon!);
      maxX = Math.max(maxX, lon!);
      minY = Math.min(minY, lat!);
      maxY = Math.max(maxY, lat!);
    }
  const k = Math.cos((((minY + maxY) / 2) * Math.PI) / 180),
    W = 720;
  const scale = W / ((maxX - minX) * k),
    H = Math.min(900, (maxY - minY) * scale + 2);
  const counts = h.features.map((f) => f.properties.crashes).sort((a, b) => a - b);
  const breaks = [0.5, 0.75, 0.9, 0.97].map((q) => counts[Math.floor(q * (counts.length - 1))]!);
  const colours = ['#fde0c5', '#facba6', '#f59e72', '#e4574f', '#b3123f'];
  const colour = (v: number) => colours[breaks.filter((b) => v > b).length]!;
  const paths = h.features
    .map(
      (f) =>
        `<path d="M${f.geometry.coordinates[0]!.map(([lon, lat]) => `${((lon! - minX) * k * scale).toFixed(1)},${((maxY - lat!) * scale).toFixed(1)}`).join('L')}Z" fill="${colour(f.properties.crashes)}"><title>${f.properties.crashes} crashes, ${f.properties.ksi ?? `fewer than ${h.minimumCrashes}`} killed or seriously injured</title></path>`,
    )
    .join('');
  const legend = colours
    .map(
      (c, i) =>
        `<span><i style="background:${c}"></i>${i === 0 ? `${h.minimumCrashes}–${breaks[0]}` : i === 4 ? `over ${breaks[3]}` : `${breaks[i - 1]! + 1}–${breaks[i]}`}</span>`,
    )
    .join('');
  return `<svg viewBox="0 0 ${W} ${H.toFixed(0)}" class="map" role="img" aria-label="Crashes per hexagon">${paths}</svg><p class="legend">Crashes per hexagon: ${legend}</p>`;
}

/** The publishers of the files imported, else the configuration's attribution. */
const sourceLine = (sources: string[], attribution: string) => {
  const named = sources.length ? sources.join('; ') : attribution;
  return named ? ` Source: ${esc(named)}.` : '';
};

/** The public road-safety page of the configured city. */
export async function streetsPage(
  store: Store,
  city: { name: string; attribution: string },
): Promise<string> {
  const p = await publicStreets(store);
  const body = !p
    ? '<p>No collision data has been loaded yet.</p>'
    : `
<section><h2>Progress to our target</h2>
${
  p.target
    ? `<p>We aim to cut ${esc(p.target.label)} by ${(p.target.target.reduction * 100).toFixed(0)}%: from ${n0(p.target.baseline.value)} a year
(${esc(p.target.definitions.baseline)}) to ${n0(p.target.target.value)} by ${p.target.target.year}.
${p.target.latest12 ? `In the ${esc(p.target.latest12.period)} there were <b>${n0(p.target.latest12.value)}</b>: ${esc(p.target.latest12.verdict)}.` : ''}</p>
${targetChart(p.target)}
<p class="muted">Dots are yearly counts; bars show the range the true yearly rate could plausibly be in (exact 95% Poisson interval), because small counts vary by chance.
Green: at or below the glide path; red: above it. * partial year.</p>`
    : '<p>Not enough years of data for a target yet.</p>'
}
</section>
<section><h2>Where people are hurt</h2><p>${esc(p.hin.statement)}. These streets form our high-injury network, where engineering, education and enforcement are aimed first.</p>
<table><thead><tr><th>rank</th><th>street (${esc(p.corridors.period)})</th><th>crashes</th><th>fatal or serious-injury crashes</th><th>people killed or seriously injured</th></tr></thead>
<tbody>${p.corridors.list.map((c) => `<tr><td>${c.rank}</td><th>${esc(c.name)}</th><td>${few(c.crashes)}</td><td>${few(c.ka)}</td><td>${few(c.ksi)}</td></tr>`).join('')}</tbody></table>
${hexMap(p.hexagons)}
<p class="muted">Counts on hexagons of about 0.7 km². Hexagons with fewer than ${p.hexagons.minimumCrashes} crashes are not shown (${p.hexagons.withheld} withheld), so no single crash can be located.</p>
</section>
<section><h2>Year by year</h2><table><thead><tr><th>year</th><th>crashes</th><th>fatal</th><th>serious injury</th><th>other visible injury</th><th>complaint of pain</th><th>people killed</th><th>people injured</th></tr></thead>
<tbody>${p.years.map((y) => `<tr><th>${y.year}</th><td>${few(y.crashes)}</td><td>${few(y.bySeverity.K)}</td><td>${few(y.bySeverity.A)}</td><td>${few(y.bySeverity.B)}</td><td>${few(y.bySeverity.C)}</td><td>${few(y.killed)}</td><td>${few(y.injured)}</td></tr>`).join('')}</tbody></table></section>`;
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Safer streets in ${esc(city.name)} — how we are doing</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9;line-height:1.5}main{max-width:860px;margin:0 auto;padding:1.2rem}
section{background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:1rem 1.2rem;margin:1rem 0}.muted{color:#6b7280;font-size:.92em}
table{border-collapse:collapse;width:100%;margin:.6rem 0}th,td{padding:.3rem .5rem;border-bottom:1px solid #eee;text-align:right}th:nth-child(2),thead th{text-align:left}
.chart,.map{width:100%;height:auto}.chart text{font-size:12px;fill:#4b5563}.grid{stroke:#eef0f3}.ci{stroke:#6b7280;stroke-width:2}
.pass circle{fill:#2b8a3e}.fail circle{fill:#c92a2a}.na circle{fill:#495057}.glide{fill:none;stroke:#1864ab;stroke-dasharray:5 4;stroke-width:2}
.target{stroke:#1864ab;stroke-width:1.5}.target-label{fill:#1864ab!important}.map path{stroke:#fff;stroke-width:.5}
.legend span{margin-right:.8rem}.legend i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-1px}
</style></head><body><main>
<h1>Safer streets in ${esc(city.name)}: how we are doing</h1>
<p>Every fatal and injury crash reported to the police, counted the same way every year.${sourceLine(p ? p.sources : [], city.attribution)}</p>
${body}
<p class="muted">Open data: <a href="/api/public/streets">this page as JSON</a> · <a href="/public/plan">our goals</a> · <a href="/public">emergency response</a></p>
</main></body></html>`;
}
