import type { FireService } from '../../domains/fire/index.ts';
import type { Store } from '../../platform/db.ts';
import { publicPlan } from '../../domains/strategy/index.ts';

const esc = (s: unknown) => String(s ?? '').replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const STATUS: Record<string, [string, string]> = {
  on_track: ['On track', 'pass'],
  near: ['Close to target', 'near'],
  off_track: ['Behind target', 'fail'],
  no_data: ['No data yet', 'na'],
  no_target: ['No target set', 'na'],
};
const TREND: Record<string, string> = {
  improving: '↗ improving',
  worsening: '↘ getting worse',
  flat: '→ steady',
};

function value(v: number | null, unit: string): string {
  if (v === null) return '–';
  if (unit === 'share') return `${(v * 100).toFixed(0)}%`;
  if (unit === 'seconds') return `${Math.floor(v / 60)} min ${Math.round(v % 60)} s`;
  return v.toLocaleString('en-US', { maximumFractionDigits: 1 });
}

/** The public strategy page: goals, progress on their measures, and the money behind each. */
export async function planPage(store: Store, fire: FireService): Promise<string> {
  const p = await publicPlan(store, fire);
  const money = (x: number) => `$${(x / 1e6).toFixed(1)} million`;
  const goals = p.goals
    .map(
      (g) => `<section class="goal">
    <h2>${esc(g.name)}</h2>${g.description ? `<p>${esc(g.description)}</p>` : ''}
    ${
      g.budget
        ? `<p class="money"><b>${money(g.budget.amount)}</b> of the adopted budget (${(g.budget.share * 100).toFixed(0)}%${g.budget.perResident !== null ? `, $${Math.round(g.budget.perResident)} per resident` : ''}).</p>
      <div class="bar"><span style="width:${Math.max(1, g.budget.share * 100).toFixed(1)}%"></span></div>`
        : ''
    }
    <ul>${g.measures
      .map(
        (
          m,
        ) => `<li><span class="badge ${STATUS[m.status]![1]}">${STATUS[m.status]![0]}</span> <b>${esc(m.name)}</b><br>
      <span class="muted">Latest: ${value(m.actual, m.unit)}${m.target !== null ? ` · target ${value(m.target, m.unit)}` : ''}${m.trend ? ` · ${TREND[m.trend]}` : ''}${m.period ? ` · ${esc(m.period)}` : ''} · ${m.direction === 'lower' ? 'lower is better' : 'higher is better'}</span></li>`,
      )
      .join('')}</ul>
  </section>`,
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(p.city)} — our goals and how we are doing</title>
<style>
body{font-family:system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9;line-height:1.5}
main{max-width:860px;margin:0 auto;padding:1.2rem}
.goal{background:#fff;border:1px solid #e5e7eb;border-radius:12px;padding:1rem 1.2rem;margin:1rem 0}
h2{margin:.2rem 0 .4rem}.muted{color:#6b7280;font-size:.92em}ul{padding-left:1rem}li{margin:.6rem 0;list-style:none}
.bar{height:10px;background:#e9ecef;border-radius:5px;overflow:hidden}.bar span{display:block;height:100%;background:#1864ab}
.badge{display:inline-block;padding:0 .5rem;border-radius:10px;font-size:.8em;font-weight:600}
.pass{background:#d3f9d8;color:#2b8a3e}.near{background:#fff3bf;color:#8a6d00}.fail{background:#ffe3e3;color:#c92a2a}.na{background:#e9ecef;color:#495057}
</style></head><body><main>
<h1>${esc(p.city)}: our goals and how we are doing</h1>
<p>The city council's plan for fiscal years ${p.period.from}–${p.period.to} sets five goals. For each, here is what we measure,
how close we are to the target, and how much of the ${p.budget ? `fiscal year ${p.budget.fiscalYear} adopted budget (${money(p.budget.total)})` : 'budget'} goes to it.
Figures for emergency response come straight from 911 dispatch records.</p>
${goals}
${p.notAligned ? `<p class="muted">${money(p.notAligned.amount)} (${(p.notAligned.share * 100).toFixed(0)}%) of the budget is not tied to one goal (for example debt service and citywide costs).</p>` : ''}
<p class="muted">Open data: <a href="/api/public/strategy">this page as JSON</a> · <a href="/public">emergency response by neighbourhood</a></p>
</main></body></html>`;
}
