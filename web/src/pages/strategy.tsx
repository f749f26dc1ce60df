import { useState } from 'preact/hooks';
import type { MeasureStatus } from '../../../src/contracts/index.ts';
import { fmtPct, post, useQuery } from '../api';
import { Chart, Table } from '../components';

const STATUS: Record<string, string> = {
  on_track: 'on track',
  near: 'near',
  off_track: 'off track',
  no_data: 'no data',
  no_target: 'no target',
};
const STATE: Record<string, string> = {
  evidenced: 'evidenced',
  partial: 'partly',
  not_yet: 'not yet',
};
const value = (v: number | null, unit: string) =>
  v === null
    ? '–'
    : unit === 'share'
      ? `${(v * 100).toFixed(1)}%`
      : v.toLocaleString('en-US', { maximumFractionDigits: 1 });
const money = (x: number) => `$${(x / 1e6).toFixed(1)}M`;

/** Staff view of the plan: measures and status, dollars by goal, and What Works Cities evidence. */
export function Strategy({ search }: { search: string }) {
  const goal = new URLSearchParams(search).get('goal');
  const { data: d, error } = useQuery(async (get) => {
    const [status, alignment, wwc] = await Promise.all([
      get('/api/v1/strategy/status'),
      get('/api/v1/strategy/alignment'),
      get('/api/v1/strategy/wwc'),
    ]);
    return {
      status,
      alignment,
      wwc,
      pbb: await get('/api/v1/strategy/pbb', { fy: alignment.fy }),
      actions: await get('/api/v1/strategy/actions'),
      capital: await get('/api/v1/strategy/capital', { fy: alignment.fy + 1 }),
    };
  }, []);
  if (error)
    return (
      <div class="page">
        <p class="error">{error}</p>
      </div>
    );
  if (!d)
    return (
      <div class="page">
        <p class="muted">Loading…</p>
      </div>
    );
  const mine = (g: string) => !goal || g === goal;
  const m = d.status.measures.filter((x) => mine(x.goal)),
    a = d.alignment;
  const actions = d.actions.filter((x) => mine(x.goal));
  const capital = d.capital.projects.filter((c) => !goal || c.goals.includes(goal));
  return (
    <div class="page" data-testid="strategy">
      <h2>{d.status.city}: strategic plan</h2>
      <nav class="goals">
        Goal:{' '}
        <a href="#/strategy" class={!goal ? 'active' : ''}>
          all
        </a>
        {a.goals
          .filter((g) => g.goal !== '(not aligned)')
          .map((g) => (
            <a href={`#/strategy?goal=${g.goal}`} class={goal === g.goal ? 'active' : ''}>
              {g.name}
            </a>
          ))}
      </nav>
      <Table
        title="Measures"
        headers={['Goal', 'Measure', 'Period', 'Actual', 'Target', 'Status', 'Trend', 'Source']}
        rows={m.map((x) => [
          x.goal,
          x.name,
          x.period,
          value(x.actual, x.unit),
          value(x.target, x.unit),
          STATUS[x.status]!,
          x.trend,
          x.source,
        ])}
        cellClass={(r, c) =>
          c === 5
            ? (({ on_track: 'pass', near: 'warn', off_track: 'fail' } as Record<string, string>)[
                m[r]!.status
              ] ?? 'na')
            : ''
        }
      />
      <div class="grid2">
        <Table
          title={`Adopted expense budget by goal, FY${a.fy}`}
          id="alignment"
          headers={[
            'Goal',
            'All funds',
            'Share',
            'General fund',
            'GF share',
            `Change on FY${a.fy - 1}`,
            'Per resident',
          ]}
          rows={a.goals.map((g) => [
            g.name,
            money(g.amount),
            fmtPct(g.share),
            g.generalFund === null ? '–' : money(g.generalFund),
            fmtPct(g.generalFundShare),
            g.change === null ? '–' : `${g.change >= 0 ? '+' : ''}${(g.change * 100).toFixed(1)}%`,
            g.perResident === null ? '–' : `$${Math.round(g.perResident)}`,
          ])}
        />
        <section class="card">
          <header>
            <h3>Where the money goes</h3>
            <small>{money(a.total)} in all</small>
          </header>
          <Chart
            height={260}
            option={{
              tooltip: {},
              grid: { left: 170, right: 20, top: 10, bottom: 30 },
              xAxis: { type: 'value', axisLabel: { formatter: (v: number) => `$${v / 1e6}M` } },
              yAxis: { type: 'category', data: a.goals.map((g) => g.name).reverse() },
              series: [{ type: 'bar', data: a.goals.map((g) => g.amount).reverse() }],
            }}
          />
        </section>
      </div>
      <div class="grid2">
        <Table
          title="Actions and initiatives"
          id="actions"
          headers={['Goal', 'Action', 'Owner', 'Due', 'Status', 'Done']}
          rows={actions.map((x) => [
            x.goal,
            x.name,
            x.owner,
            x.due,
            x.overdue ? `${x.status} (overdue)` : x.status,
            `${x.percentComplete}%`,
          ])}
          cellClass={(r, c) =>
            c === 4
              ? actions[r]!.overdue
                ? 'fail'
                : actions[r]!.status === 'done'
                  ? 'pass'
                  : ''
              : ''
          }
        />
        <Table
          title={`Capital projects, FY${d.capital.fy} appropriations`}
          id="capital"
          headers={[
            'Project',
            'Goals',
            'This year',
            'Funded to date',
            'Total cost',
            'Yearly operating cost',
          ]}
          rows={capital.map((c) => [
            c.name,
            c.goals.join(', '),
            money(c.thisYear),
            money(c.fundedToDate),
            money(c.totalCost),
            money(c.operatingImpact),
          ])}
        />
      </div>
      {d.pbb.programs.length > 0 && (
        <div class="grid2">
          <Table
            title="Priority-based budgeting: programs by score"
            id="pbb"
            headers={['Rank', 'Program', 'Department', 'Score', 'Quartile', 'Cost']}
            rows={d.pbb.programs.map((p) => [
              p.rank,
              p.name,
              p.department,
              `${p.score} / ${d.pbb.maxScore}`,
              `Q${p.quartile}`,
              money(p.cost),
            ])}
          />
          <section class="card">
            <header>
              <h3>Resource alignment: dollars by quartile</h3>
              <small>Q1 = most relevant to the goals</small>
            </header>
            <Chart
              height={260}
              option={{
                tooltip: {},
                grid: { left: 50, right: 20, top: 10, bottom: 30 },
                xAxis: { type: 'category', data: d.pbb.quartiles.map((q) => `Q${q.quartile}`) },
                yAxis: { type: 'value', axisLabel: { formatter: (v: number) => `$${v / 1e6}M` } },
                series: [
                  {
                    type: 'bar',
                    data: d.pbb.quartiles.map((q, k) => ({
                      value: q.cost,
                      itemStyle: { color: ['#2f9e44', '#74b816', '#f59f00', '#e03131'][k] },
                    })),
                  },
                ],
              }}
            />
          </section>
        </div>
      )}
      <ActualForm
        measures={d.status.measures.filter((x) => x.source === 'manual')}
        onSaved={() => location.reload()}
      />
      <Table
        title="What Works Cities criteria this city's use of CityOps evidences"
        headers={['Criterion', 'Name', 'State', 'Evidence', 'Links']}
        rows={d.wwc.map((c) => [c.id, c.name, STATE[c.state]!, c.evidence, c.links.join('  ')])}
        cellClass={(r, c) =>
          c === 2
            ? ({ evidenced: 'pass', partial: 'warn', not_yet: 'na' } as Record<string, string>)[
                d.wwc[r]!.state
              ]!
            : ''
        }
      />
    </div>
  );
}

/** Report an actual for a measure without a live source (analysts and admins). */
function ActualForm({ measures, onSaved }: { measures: MeasureStatus[]; onSaved: () => void }) {
  const [message, setMessage] = useState('');
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    try {
      await post('/api/v1/strategy/actuals', {
        measure: f.get('measure'),
        period: f.get('period'),
        value: Number(f.get('value')),
      });
      setMessage('Recorded.');
      onSaved();
    } catch (err) {
      setMessage((err as Error).message);
    }
  };
  return (
    <section class="card">
      <header>
        <h3>Report an actual</h3>
        <small>for measures without a live source; a period already reported is replaced</small>
      </header>
      <form class="filters" onSubmit={submit} data-testid="actual-form">
        <label>
          Measure{' '}
          <select name="measure">
            {measures.map((m) => (
              <option value={m.measure}>{m.name}</option>
            ))}
          </select>
        </label>
        <label>
          Fiscal year <input name="period" placeholder="2024" size={6} required />
        </label>
        <label>
          Value <input name="value" type="number" step="any" required />
        </label>
        <button type="submit">Record</button>
        {message && <span role="status">{message}</span>}
      </form>
    </section>
  );
}
