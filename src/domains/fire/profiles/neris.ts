import { WIDE_FIELDS, type WideMapping, WideMappingSchema } from '../mapping.ts';
import type { Category } from '../model.ts';

/**
 * NERIS-shaped incidents (JSON): a `dispatch` block with the call times and `unit_responses`
 * with dispatch / enroute_to_scene / on_scene / unit_clear. Each unit response becomes one
 * canonical wide row; the identity mapping below then reads it like any other export.
 */
export const neris: WideMapping = WideMappingSchema.parse({
  name: 'neris',
  source: 'neris',
  timeFormat: 'iso',
  columns: Object.fromEntries(WIDE_FIELDS.map((f) => [f, f])),
  emergencyPriorities: ['true', 'EMERGENCY', '1', '3'],
  unitTypes: {
    ENGINE: 'ENGINE',
    ENGINE_STRUCT: 'ENGINE',
    ENGINE_WUI: 'ENGINE',
    LADDER: 'TRUCK',
    TRUCK: 'TRUCK',
    TOWER: 'TRUCK',
    QUINT: 'QUINT',
    ALS_AMB: 'MEDIC_ALS',
    BLS_AMB: 'MEDIC_BLS',
    MEDIC: 'MEDIC_ALS',
    RESCUE: 'RESCUE',
    HEAVY_RESCUE: 'RESCUE',
    CHIEF: 'CHIEF',
    CHIEF_STAFF_COMMAND: 'CHIEF',
    SUPPORT: 'SUPPORT',
  },
});

/** NERIS incident type prefixes → categories. */
const TYPE_PREFIX: Record<string, Category> = {
  MEDICAL: 'EMS',
  FIRE: 'FIRE',
  RESCUE: 'RESCUE',
  HAZSIT: 'HAZMAT',
  PUBSERV: 'SERVICE',
  NOEMERG: 'SERVICE',
  LAWENFORCE: 'OTHER',
};

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj =>
  v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {};
const str = (v: unknown): string | null =>
  v === undefined || v === null || v === ''
    ? null
    : typeof v === 'object'
      ? JSON.stringify(v)
      : String(v);
const first = (...vs: unknown[]): string | null => {
  for (const v of vs) {
    const s = str(v);
    if (s !== null) return s;
  }
  return null;
};

export interface NerisRow {
  values: Record<string, string | null>;
  raw: Obj;
}

/** Flattens one NERIS incident into canonical rows, or explains why it cannot. */
export function flattenNeris(
  incident: Obj,
): { rows: NerisRow[] } | { error: { field: string; reason: string } } {
  const base = obj(incident.base);
  const dispatch = obj(incident.dispatch);
  const id = first(
    incident.incident_number,
    base.incident_number,
    dispatch.incident_number,
    incident.neris_id,
    incident.id,
  );
  if (id === null)
    return {
      error: {
        field: 'incident_number',
        reason: 'missing incident number (incident_number, base.incident_number or neris_id)',
      },
    };
  const units = (
    Array.isArray(dispatch.unit_responses)
      ? dispatch.unit_responses
      : Array.isArray(incident.unit_responses)
        ? incident.unit_responses
        : null
  ) as unknown[] | null;
  if (!units)
    return { error: { field: 'dispatch.unit_responses', reason: 'no unit_responses array' } };
  const types = Array.isArray(incident.incident_types) ? incident.incident_types : [];
  const type = first(obj(types[0]).type, incident.incident_type);
  const location = obj(dispatch.location ?? incident.location ?? base.location);
  const point = obj(location.point ?? location);
  const coords = Array.isArray(point.coordinates) ? (point.coordinates as unknown[]) : null;
  const category = type ? TYPE_PREFIX[type.split('||')[0]!.toUpperCase()] : undefined;
  const incidentValues: Record<string, string | null> = {
    incident_id: id,
    call_received: first(dispatch.call_arrival, dispatch.call_answered, incident.call_arrival),
    call_created: first(dispatch.call_create, incident.call_create),
    closed_at: first(dispatch.incident_clear, incident.incident_clear),
    incident_type: type,
    priority: first(dispatch.priority, incident.priority, incident.emergency),
    lat: first(coords ? coords[1] : undefined, point.lat, point.latitude),
    lon: first(coords ? coords[0] : undefined, point.lon, point.lng, point.longitude),
    address: first(location.address, location.full_address),
    station_area: first(dispatch.first_due_station, incident.station_area),
    zone: first(dispatch.response_zone, incident.zone),
    risk_class: first(incident.risk_class),
  };
  const { unit_responses: _omit, ...dispatchRest } = dispatch;
  const context = { ...incident, dispatch: dispatchRest };
  const rows = units.map((u, i) => {
    const unit = obj(u);
    const unitId = first(unit.unit_id, unit.reported_unit_id, unit.unit_neris_id);
    return {
      values: {
        ...incidentValues,
        category: category ?? null,
        unit_id: unitId,
        row_id: `${id}-${unitId ?? i}`,
        unit_type: first(unit.unit_type),
        staffing: first(unit.staffing),
        dispatch_order: String(i + 1),
        dispatched: first(unit.dispatch),
        enroute: first(unit.enroute_to_scene),
        staging: first(unit.staging),
        on_scene: first(unit.on_scene),
        transport_started: first(unit.enroute_to_hospital),
        at_hospital: first(unit.arrived_at_hospital),
        cleared: first(unit.unit_clear),
        cancelled: first(unit.canceled_enroute ?? unit.cancelled),
      },
      raw: { incident: context, unit_response: unit },
    };
  });
  return { rows };
}
