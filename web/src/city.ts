/** The city this server shows (GET /api/public/city), fetched once per page load. */
export interface City {
  name: string;
  timeZone: string;
  attribution: string;
  bounds: [[number, number], [number, number]] | null;
  layers: string[];
  periods: {
    fire: { from: string; to: string } | null;
    collisions: { from: string; to: string } | null;
  };
}

let pending: Promise<City> | null = null;

export function city(): Promise<City> {
  pending ??= fetch('/api/public/city').then((r) => {
    if (!r.ok) throw new Error(`The city settings could not be read (${r.status})`);
    return r.json() as Promise<City>;
  });
  return pending;
}

/** The latest month with fire data (pages open on it), or the current month when none is loaded. */
export async function latestFireMonth(): Promise<string> {
  return (await city()).periods.fire?.to ?? new Date().toISOString().slice(0, 7);
}
