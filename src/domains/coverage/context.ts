import { UserError } from '../../platform/errors.ts';
import type { RoadWay } from './osm.ts';
import type { Store } from '../../platform/db.ts';
import { buildGraph, type Graph } from './graph.ts';
import type { Calibration } from '../../contracts/coverage.ts';
export type { Calibration };

/**
 * What planning works on: the road graph of one network, the stations with their apparatus and how busy
 * each unit was, and the historical incidents as demand, each snapped once to its nearest road node.
 * Incidents and stations beyond the network's extent (bounding box, or more than SNAP_M from a road)
 * are left out and counted: every answer says it is clipped to the network.
 */
export const SNAP_M = 200;

/** Typical crew sizes where the data gives none (NFPA 1710 companies of four; two on an ambulance). */
export const DEFAULT_STAFFING: Record<string, number> = {
  ENGINE: 4,
  TRUCK: 4,
  RESCUE: 4,
  MEDIC_ALS: 2,
  MEDIC_BLS: 2,
  CHIEF: 1,
  SUPPORT: 2,
};

export interface Unit {
  id: string;
  type: string;
  staffing: number;
  busyFraction: number;
}
export interface Station {
  id: string;
  name: string | null;
  lat: number;
  lon: number;
  units: Unit[];
  node: number | null;
  snapM: number | null;
}
export interface Demand {
  incidentId: string;
  lat: number;
  lon: number;
  at: number;
  emergency: boolean;
  node: number;
  /** the first-arriving own unit in reality: its type, travel and how long it was committed */
  firstType: string | null;
  firstTravel: number | null;
  firstService: number | null;
}
/** Where people live, for coverage of residents: population polygons, else census tracts at equal weight (a proxy). */
export interface Residents {
  layer: string;
  weighting: string;
  units: { id: string; weight: number; node: number | null }[];
}

export interface CoverageContext {
  network: string;
  graph: Graph;
  stations: Station[];
  demand: Demand[];
  residents: Residents | null;
  excluded: { noLocation: number; outsideNetwork: number; stationsOutside: string[] };
  calibration: Calibration | null;
  periodSeconds: number;
  clip: string;
}

const graphs = new Map<string, { batch: number; graph: Graph }>();

/** The network to plan on: the one named, else the most recently imported. */
export async function chooseNetwork(
  store: Store,
  name?: string,
): Promise<{ name: string; batch: number }> {
  const r = await store.one<{ source: string; batch: number }>(
    `SELECT source, max(batch_id) AS batch FROM road_segments
    ${name ? 'WHERE source = $1' : ''} GROUP BY source ORDER BY batch DESC LIMIT 1`,
    name ? [name] : [],
  );
  if (!r)
    throw new UserError(
      name
        ? `No road network "${name}" is loaded (cityops import roads FILE --source ${name}).`
        : 'No road network is loaded: cityops import roads FILE (OSM .pbf/.osm or GeoJSON lines).',
    );
  return { name: r.source, batch: r.batch };
}

export async function loadGraph(
  store: Store,
  name?: string,
): Promise<{ network: string; graph: Graph }> {
  const net = await chooseNetwork(store, name);
  const cached = graphs.get(net.name);
  if (cached && cached.batch === net.batch) return { network: net.name, graph: cached.graph };
  const rows = await store.all<{
    id: string;
    name: string | null;
    highway: string | null;
    direction: string | null;
    maxspeed_kmh: number | null;
    oneway_unknown: boolean | null;
    coordinates: string;
  }>(
    `SELECT segment_id AS id, name, highway, direction, maxspeed_kmh, oneway_unknown, coordinates::VARCHAR AS coordinates FROM road_segments WHERE source = $1`,
    [net.name],
  );
  const ways: RoadWay[] = rows.map((r) => ({
    id: r.id,
    name: r.name,
    highway: r.highway,
    direction: (r.direction ?? 'both') as RoadWay['direction'],
    maxspeedKmh: r.maxspeed_kmh,
    onewayUnknown: !!r.oneway_unknown,
    coordinates: JSON.parse(r.coordinates),
  }));
  const graph = buildGraph(ways);
  graphs.set(net.name, { batch: net.batch, graph });
  return { network: net.name, graph };
}

export async function loadCalibration(store: Store, network: string): Promise<Calibration | null> {
  const r = await store.one<{ value: string }>(
    `SELECT value::VARCHAR AS value FROM plan_settings WHERE key = $1`,
    [`calibration:${network}`],
  );
  return r ? JSON.parse(r.value) : null;
}

export async function saveCalibration(store: Store, c: Calibration): Promise<void> {
  await store.run(
    `INSERT OR REPLACE INTO plan_settings (key, value, updated_at) VALUES ($1, $2::JSON, now())`,
    [`calibration:${c.network}`, JSON.stringify(c)],
  );
}

export async function loadCoverageContext(
  store: Store,
  opts: { network?: string; priority?: 'all' | 'emergency' } = {},
): Promise<CoverageContext> {
  const { network, graph } = await loadGraph(store, opts.network);
  const stationRows = await store.all<{
    id: string;
    name: string | null;
    lat: number;
    lon: number;
    apparatus: string | null;
  }>(
    `SELECT station_id AS id, name, lat, lon, apparatus::VARCHAR AS apparatus FROM stations ORDER BY try_cast(station_id AS INTEGER) NULLS LAST, station_id`,
  );
  if (!stationRows.length)
    throw new UserError(
      'No stations are loaded: cityops import stations FILE (GeoJSON points or CSV with lat, lon).',
    );
  // the demo's replayed feed is a copy of the file, shifted to now: never demand or history
  const period =
    (
      await store.one<{ s: number | null }>(
        `SELECT epoch(max(call_received)) - epoch(min(call_received)) AS s FROM analytic_incidents`,
      )
    )?.s ?? 0;
  // units and how busy they were, from the CAD data (committed = dispatched → cleared)
  const units = await store.all<{
    station: string;
    unit: string;
    type: string;
    staffing: number | null;
    busy: number | null;
  }>(`SELECT home_station AS station, unit_id AS unit,
      any_value(unit_type) AS type, round(avg(staffing)) AS staffing,
      sum(greatest(0, epoch(cleared) - epoch(dispatched))) FILTER (WHERE cleared > dispatched) AS busy
    FROM analytic_unit_responses WHERE home_station IS NOT NULL AND own_agency GROUP BY ALL ORDER BY 1, 2`);
  const stations: Station[] = stationRows.map((s) => {
    const given = s.apparatus
      ? (JSON.parse(s.apparatus) as { unit?: string; type: string; staffing?: number }[])
      : null;
    const list: Unit[] = given
      ? given.map((u, i) => ({
          id: u.unit ?? `${s.id}-${i + 1}`,
          type: u.type.toUpperCase(),
          staffing: u.staffing ?? DEFAULT_STAFFING[u.type.toUpperCase()] ?? 2,
          busyFraction: 0,
        }))
      : units
          .filter((u) => u.station === s.id)
          .map((u) => ({
            id: u.unit,
            type: u.type,
            staffing: u.staffing ?? DEFAULT_STAFFING[u.type] ?? 2,
            busyFraction: period > 0 && u.busy ? Math.min(1, u.busy / period) : 0,
          }));
    const snap = graph.index.nearest(s.lon, s.lat, SNAP_M * 1.5);
    return {
      id: s.id,
      name: s.name,
      lat: s.lat,
      lon: s.lon,
      units: list,
      node: snap?.node ?? null,
      snapM: snap?.distanceM ?? null,
    };
  });
  for (const s of stations)
    for (const u of s.units) {
      const found = units.find((x) => x.unit === u.id);
      if (found && period > 0 && found.busy) u.busyFraction = Math.min(1, found.busy / period);
    }
  const incidents = await store.all<{
    id: string;
    lat: number | null;
    lon: number | null;
    at: number;
    emergency: boolean | null;
    type: string | null;
    travel: number | null;
    service: number | null;
  }>(`
    WITH first AS (
      SELECT incident_id, arg_min(unit_type, on_scene) AS type, arg_min(epoch(on_scene) - epoch(enroute), on_scene) AS travel,
        arg_min(epoch(cleared) - epoch(dispatched), on_scene) AS service
      FROM analytic_unit_responses WHERE own_agency AND on_scene IS NOT NULL GROUP BY incident_id)
    SELECT i.incident_id AS id, i.lat, i.lon, epoch(i.call_received) AS at, i.emergency, f.type, f.travel, f.service
    FROM analytic_incidents i LEFT JOIN first f USING (incident_id)
    WHERE i.call_received IS NOT NULL ${opts.priority === 'all' ? '' : 'AND i.emergency'} ORDER BY i.call_received, i.incident_id`);
  const [w, s, e, n] = graph.bbox;
  let noLocation = 0,
    outsideNetwork = 0;
  const demand: Demand[] = [];
  for (const r of incidents) {
    if (r.lat === null || r.lon === null) {
      noLocation++;
      continue;
    }
    const inBox = r.lon >= w && r.lon <= e && r.lat >= s && r.lat <= n;
    const snap = inBox ? graph.index.nearest(r.lon, r.lat, SNAP_M) : null;
    if (!snap) {
      outsideNetwork++;
      continue;
    }
    demand.push({
      incidentId: r.id,
      lat: r.lat,
      lon: r.lon,
      at: r.at,
      emergency: !!r.emergency,
      node: snap.node,
      firstType: r.type,
      firstTravel: r.travel !== null && r.travel > 0 ? r.travel : null,
      firstService: r.service !== null && r.service > 0 ? r.service : null,
    });
  }
  return {
    network,
    graph,
    stations,
    demand,
    periodSeconds: period,
    residents: await loadResidents(store, graph),
    excluded: {
      noLocation,
      outsideNetwork,
      stationsOutside: stations.filter((x) => x.node === null).map((x) => x.id),
    },
    calibration: await loadCalibration(store, network),
    clip: `clipped to the road network "${network}" (${w.toFixed(3)}, ${s.toFixed(3)} – ${e.toFixed(3)}, ${n.toFixed(3)}): incidents more than ${SNAP_M} m from its roads and stations off it are left out`,
  };
}

/** The area-weighted centroid of a polygon's largest outer ring. */
function centroid(geometry: {
  type: string;
  coordinates: number[][][] | number[][][][];
}): [number, number] {
  const rings =
    geometry.type === 'Polygon'
      ? [(geometry.coordinates as number[][][])[0]!]
      : (geometry.coordinates as number[][][][]).map((p) => p[0]!);
  let best: [number, number] = [0, 0],
    bestArea = -1;
  for (const ring of rings) {
    let a = 0,
      cx = 0,
      cy = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      const f = ring[j]![0]! * ring[i]![1]! - ring[i]![0]! * ring[j]![1]!;
      a += f;
      cx += (ring[j]![0]! + ring[i]![0]!) * f;
      cy += (ring[j]![1]! + ring[i]![1]!) * f;
    }
    if (Math.abs(a) > bestArea) {
      bestArea = Math.abs(a);
      best = [cx / (3 * a), cy / (3 * a)];
    }
  }
  return best;
}

async function loadResidents(store: Store, graph: Graph): Promise<Residents | null> {
  const rows = await store.all<{
    layer: string;
    id: string;
    geometry: string;
    value: number | null;
  }>(`SELECT layer, feature_id AS id, geometry::VARCHAR AS geometry, value
    FROM map_layers WHERE layer IN ('population', 'tracts') ORDER BY layer = 'population' DESC, feature_id`);
  if (!rows.length) return null;
  const layer = rows[0]!.layer;
  const mine = rows.filter((r) => r.layer === layer);
  const weighted = mine.every((r) => r.value !== null);
  const [w, s, e, n] = graph.bbox;
  return {
    layer,
    weighting: weighted
      ? "residents (the layer's counts)"
      : `equal weight per ${layer === 'tracts' ? 'census tract' : 'polygon'}: a proxy for residents (tracts are drawn to similar populations)`,
    units: mine.map((r) => {
      const [lon, lat] = centroid(JSON.parse(r.geometry));
      const inside = lon >= w && lon <= e && lat >= s && lat <= n;
      return {
        id: r.id,
        weight: weighted ? r.value! : 1,
        node: inside ? (graph.index.nearest(lon, lat, SNAP_M)?.node ?? null) : null,
      };
    }),
  };
}
