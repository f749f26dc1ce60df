import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { chart } from './charts';
import type { Filters } from './api';

export type Cell = string | number | null;

/** Words read left to right; figures line up on the right. */
const isText = (c: Cell) =>
  typeof c === 'string' && c.length > 12 && !/^[-+$]?[\d.,:]+\s?(%|M|s|min)?$/.test(c);

/** A table with a CSV download of exactly what it shows. */
export function Table(props: {
  title: string;
  headers: string[];
  rows: Cell[][];
  cellClass?: (row: number, col: number) => string;
  id?: string;
}) {
  const download = () => {
    const q = (v: Cell) =>
      v === null ? '' : /[",\n]/.test(String(v)) ? `"${String(v).replace(/"/g, '""')}"` : String(v);
    const text = [props.headers, ...props.rows].map((r) => r.map(q).join(',')).join('\n') + '\n';
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([text], { type: 'text/csv' }));
    a.download = `${props.title.toLowerCase().replace(/[^a-z0-9]+/g, '-')}.csv`;
    a.click();
  };
  return (
    <section class="card" id={props.id}>
      <header>
        <h3>{props.title}</h3>
        <button class="small" onClick={download} title="Download as CSV">
          CSV
        </button>
      </header>
      <div class="scroll">
        <table>
          <thead>
            <tr>
              {props.headers.map((h) => (
                <th>{h}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {props.rows.map((r, i) => (
              <tr>
                {r.map((c, j) => (
                  <td
                    class={`${props.cellClass?.(i, j) ?? ''}${isText(c) ? ' text' : ''}`}
                    data-col={props.headers[j]}
                  >
                    {c ?? '–'}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function Grade({ pass }: { pass: boolean | null }) {
  if (pass === null) return <span class="grade na">not graded</span>;
  return <span class={`grade ${pass ? 'pass' : 'fail'}`}>{pass ? 'PASS' : 'FAIL'}</span>;
}

export function Card(props: { title: string; children: ComponentChildren; note?: string }) {
  return (
    <section class="card">
      <header>
        <h3>{props.title}</h3>
        {props.note ? <small>{props.note}</small> : null}
      </header>
      {props.children}
    </section>
  );
}

/** An ECharts chart that redraws when its option changes. */
export function Chart({
  option,
  height = 260,
}: {
  option: Record<string, unknown>;
  height?: number;
}) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const c = chart(el.current!, option);
    return () => c.dispose();
  }, [JSON.stringify(option)]);
  return <div ref={el} style={{ height: `${height}px` }} />;
}

export function FilterBar({ value, onChange }: { value: Filters; onChange: (f: Filters) => void }) {
  const set = (k: keyof Filters) => (e: Event) =>
    onChange({ ...value, [k]: (e.target as HTMLInputElement).value || undefined });
  return (
    <form class="filters" onSubmit={(e) => e.preventDefault()}>
      <label>
        From <input type="date" name="from" value={value.from ?? ''} onChange={set('from')} />
      </label>
      <label>
        To <input type="date" name="to" value={value.to ?? ''} onChange={set('to')} />
      </label>
      <label>
        Priority{' '}
        <select name="priority" value={value.priority} onChange={set('priority')}>
          <option value="all">All</option>
          <option value="emergency">Emergency</option>
        </select>
      </label>
      <label>
        Category{' '}
        <select name="category" value={value.category ?? ''} onChange={set('category')}>
          <option value="">All</option>
          {['EMS', 'FIRE', 'RESCUE', 'HAZMAT', 'SERVICE', 'OTHER'].map((c) => (
            <option value={c}>{c}</option>
          ))}
        </select>
      </label>
      <label>
        Station{' '}
        <input
          name="station"
          placeholder="e.g. 01,03"
          size={8}
          value={value.station ?? ''}
          onChange={set('station')}
        />
      </label>
      <label>
        Unit type{' '}
        <select name="unitType" value={value.unitType ?? ''} onChange={set('unitType')}>
          <option value="">All</option>
          {['ENGINE', 'TRUCK', 'MEDIC_ALS', 'MEDIC_BLS', 'RESCUE', 'CHIEF', 'SUPPORT'].map((c) => (
            <option value={c}>{c}</option>
          ))}
        </select>
      </label>
    </form>
  );
}
