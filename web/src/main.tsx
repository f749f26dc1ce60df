import { render, type FunctionComponent } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { post, query, useQuery, type Filters } from './api';
import { city } from './city';
import { Board } from './pages/board';
import { Login } from './pages/login';
import type { StreetFilters } from './pages/streets';
import './style.css';

/** Loads a page's code on first use: the live board does not carry the charting library. */
function lazyPage<P>(load: () => Promise<FunctionComponent<P>>): FunctionComponent<P> {
  let loaded: FunctionComponent<P> | null = null;
  return (props: P) => {
    const [Page, setPage] = useState<FunctionComponent<P> | null>(() => loaded);
    useEffect(() => {
      if (!Page)
        void load().then((c) => {
          loaded = c;
          setPage(() => c);
        });
    }, []);
    return Page ? <Page {...(props as P & object)} /> : <p class="muted">Loading…</p>;
  };
}
const Performance = lazyPage(() => import('./pages/performance').then((m) => m.Performance));
const Report = lazyPage(() => import('./pages/report').then((m) => m.Report));
const Strategy = lazyPage<{ search: string }>(() =>
  import('./pages/strategy').then((m) => m.Strategy),
);
const Plan = lazyPage(() => import('./pages/plan').then((m) => m.Plan));
const Streets = lazyPage<{
  filters: StreetFilters;
  onFilters: (f: StreetFilters) => void;
  role: string;
}>(() => import('./pages/streets').then((m) => m.Streets));

function streetFilters(search: string): StreetFilters {
  const p = new URLSearchParams(search);
  const f: StreetFilters = {
    layer: (p.get('layer') as StreetFilters['layer']) ?? 'heat',
    kind: (p.get('kind') as StreetFilters['kind']) ?? 'intersection',
    by: (p.get('by') as StreetFilters['by']) ?? 'epdo',
  };
  for (const k of ['mode', 'severity', 'from', 'to', 'hours', 'city'] as const) {
    const v = p.get(k);
    if (v) f[k] = v;
  }
  return f;
}

/** Hash routes: #/board, #/performance?filters, #/report?month=YYYY-MM. The filters live in the URL, so a view can be shared. */
function useRoute(): [string, string] {
  const read = (): [string, string] => {
    const [path, search = ''] = location.hash.replace(/^#/, '').split('?');
    return [path || '/board', search];
  };
  const [route, setRoute] = useState(read);
  useEffect(() => {
    const on = () => setRoute(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return route;
}

function App() {
  // nobody signed in (401), or the server unreachable: the sign-in form
  const me = useQuery((get) => get('/api/auth/me').catch(() => null), []);
  const place = useQuery(() => city(), []);
  const user = me.data;
  const [path, search] = useRoute();
  if (user === undefined) return <p class="muted">Loading…</p>;
  if (user === null) return <Login onDone={me.reload} />;
  if (path === '/report') return <Report search={search} />;
  const logout = async () => {
    await post('/api/auth/logout', {});
    me.reload();
  };
  const nav = (to: string, label: string) => (
    <a href={`#${to}`} class={path === to ? 'active' : ''}>
      {label}
    </a>
  );
  return (
    <>
      <nav class="top">
        <b>CityOps</b>
        {place.data && <span class="place">{place.data.name}</span>} {nav('/board', 'Live board')}{' '}
        {nav('/performance', 'Performance')} {nav('/plan', 'Planning')}{' '}
        {nav('/streets', 'Safer streets')} {nav('/strategy', 'Strategy & budget')}
        <a href={reportLink(search)}>Monthly report</a> <a href="/public">Public page</a>
        <span class="spacer" />{' '}
        <span class="muted">
          {user.user} ({user.role})
        </span>{' '}
        <button class="small" onClick={logout}>
          Sign out
        </button>
      </nav>
      {path === '/performance' ? (
        <Performance
          search={search}
          onFilters={(f: Filters) => {
            location.hash = `#/performance?${query(f)}`;
          }}
        />
      ) : path === '/strategy' ? (
        <Strategy search={search} />
      ) : path === '/plan' ? (
        <Plan />
      ) : path === '/streets' ? (
        <Streets
          filters={streetFilters(search)}
          role={user.role}
          onFilters={(f: StreetFilters) => {
            location.hash = `#/streets?${new URLSearchParams(Object.entries(f).filter(([, v]) => v) as [string, string][]).toString()}`;
          }}
        />
      ) : (
        <Board />
      )}
    </>
  );
}

/** The report of the month the dashboard's filter starts in; without a filter the report opens on the latest month. */
function reportLink(search: string): string {
  const from = new URLSearchParams(search).get('from');
  return from ? `#/report?month=${from.slice(0, 7)}` : '#/report';
}

render(<App />, document.getElementById('app')!);
