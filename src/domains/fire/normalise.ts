import { MAX_YEAR, MIN_YEAR } from '../../platform/params.ts';
import { timestampParser, type TimestampParser } from '../../platform/time.ts';
import type { EventMapping, Mapping, WideMapping } from './mapping.ts';
import { normaliseHeader } from '../../platform/validation.ts';
import {
  columnParts,
  fieldColumns,
  fieldText,
  resolveHeader,
  rowFilter,
  type FieldColumns,
  type HeaderResolution,
} from '../../platform/columns.ts';
import {
  STATUS_TO_STAMP,
  UNIT_STAMPS,
  type Category,
  type IncidentRecord,
  type ResponseRecord,
  type UnitStamp,
  type UnitType,
  STAMP_ORDER,
} from './model.ts';

/** Reads one canonical field of the current source row ('' and missing both read as null). */
export type FieldGetter = (field: string) => string | null;

export interface RowWarning {
  kind: string;
  field?: string;
  message: string;
}

export type WideResult =
  | {
      ok: true;
      rowId: string;
      incident: IncidentRecord;
      response: ResponseRecord;
      warnings: RowWarning[];
    }
  | { ok: false; field: string; reason: string };

export interface StatusEvent {
  event_id: string;
  incident_id: string;
  unit_id: string;
  status: string;
  at: number;
}

export type EventResult =
  | {
      ok: true;
      event: StatusEvent;
      incident: Partial<IncidentRecord>;
      unit: Partial<ResponseRecord>;
      warnings: RowWarning[];
    }
  | { ok: false; field: string; reason: string };

/** How a file's headers line up with a mapping's fields (platform/columns.ts), with each field's first column. */
export interface ColumnResolution extends HeaderResolution {
  index: Map<string, number>;
}

export function resolveColumns(mapping: Mapping, headers: string[]): ColumnResolution {
  const r = resolveHeader(mapping.columns, mapping, headers);
  return { ...r, index: new Map([...r.fields].map(([f, c]) => [f, c.parts[0]!])) };
}

/** Fields a file must have for a mapping to make sense of it. */
export function requiredFields(mapping: Mapping): string[] {
  return mapping.shape === 'events'
    ? ['incident_id', 'unit_id', 'status', 'at']
    : ['incident_id', 'unit_id'];
}

/** A JSON record's fields as a file's would be: each part of each field one "column". */
const recordFields = new WeakMap<Mapping, Map<string, { names: string[][]; f: FieldColumns }>>();
function fieldsOfRecords(mapping: Mapping) {
  let fields = recordFields.get(mapping);
  if (!fields) {
    fields = new Map();
    for (const [field, ref] of Object.entries(mapping.columns)) {
      if (!ref) continue;
      const names = columnParts(ref);
      const f = fieldColumns(
        field,
        ref,
        mapping,
        names.map((_, i) => i),
      );
      fields.set(field, { names, f });
    }
    recordFields.set(mapping, fields);
  }
  return fields;
}

/** The value of a JSON record's key (matched as a header is), as text. */
function recordValue(rec: Record<string, unknown>, keys: Map<string, string>, names: string[]) {
  for (const name of names) {
    const key = keys.get(normaliseHeader(name));
    if (key !== undefined) {
      const v = rec[key];
      return v === null || v === undefined
        ? null
        : typeof v === 'object'
          ? JSON.stringify(v)
          : String(v);
    }
  }
  return null;
}

/** The field getter of a JSON record (a posted event, a line of a JSON file): keys match the mapping's column names case-insensitively. */
export function recordGetter(mapping: Mapping, rec: Record<string, unknown>): FieldGetter {
  const keys = new Map(Object.keys(rec).map((k) => [normaliseHeader(k), k]));
  const fields = fieldsOfRecords(mapping);
  return (field) => {
    const x = fields.get(field);
    return x
      ? fieldText(
          x.f,
          x.names.map((n) => recordValue(rec, keys, n)),
        )
      : null;
  };
}

/** Whether a JSON record passes the mapping's filter. */
export function recordKept(mapping: Mapping, rec: Record<string, unknown>): boolean {
  if (!mapping.filter) return true;
  const keys = new Map(Object.keys(rec).map((k) => [normaliseHeader(k), k]));
  const value = recordValue(rec, keys, columnParts(mapping.filter.column)[0]!);
  return rowFilter(mapping, 0)([value]);
}

/** A case-insensitive code lookup (source codes vary in case between exports). */
function codeMap<T>(map: Record<string, T>): (code: string) => T | undefined {
  const m = new Map(Object.entries(map).map(([k, v]) => [k.trim().toUpperCase(), v]));
  const seen = new Map<string, T | undefined>(); // source codes are few: normalise each once
  return (code) => {
    if (seen.has(code)) return seen.get(code);
    const v = m.get(code.trim().toUpperCase());
    if (seen.size < 10000) seen.set(code, v);
    return v;
  };
}

interface Common {
  parseTime: TimestampParser;
  unitType: (code: string) => UnitType | undefined;
  category: (code: string) => Category | undefined;
  otherAgency: Set<string>;
  emergency: Set<string>;
  homeStation: RegExp | null;
}

function common(mapping: Mapping): Common {
  return {
    parseTime: timestampParser(mapping.timeFormat, mapping.timeZone),
    unitType: codeMap(mapping.unitTypes),
    category: codeMap(mapping.categories),
    otherAgency: new Set(mapping.otherAgencyUnitTypes.map((s) => s.trim().toUpperCase())),
    emergency: new Set(mapping.emergencyPriorities.map((s) => s.trim().toUpperCase())),
    homeStation: mapping.homeStationFromUnit ? new RegExp(mapping.homeStationFromUnit, 'i') : null,
  };
}

/** Integer fields are stored as INTEGER: a larger value (1e29 staff) is as unreadable as text. */
export const MAX_INT = 2 ** 31 - 1;

/** Instants from MIN_YEAR-01-01 up to the end of MAX_YEAR (UTC): a stamp outside is a typing error (year 0000 or 9999). */
export const PLAUSIBLE_SECONDS = {
  from: Date.UTC(MIN_YEAR, 0, 1) / 1000,
  to: Date.UTC(MAX_YEAR + 1, 0, 1) / 1000,
};
const isPlausibleInstant = (utc: number) =>
  utc >= PLAUSIBLE_SECONDS.from && utc < PLAUSIBLE_SECONDS.to;
export const implausibleTimeReason = (text: string) =>
  `implausible time: "${text}" is not between ${MIN_YEAR}-01-01 and ${MAX_YEAR}-12-31`;

class RowReader {
  warnings: RowWarning[] = [];
  constructor(
    private readonly c: Common,
    private readonly mapping: Mapping,
    private readonly get: FieldGetter,
  ) {}

  text(field: string): string | null {
    const v = this.get(field);
    if (v === null) return null;
    const t = v.trim();
    return t === '' ? null : t;
  }

  /** Parses a stamp; throws a RowProblem when present but unreadable. */
  time(field: string): number | null {
    const v = this.text(field);
    if (v === null) return null;
    const r = this.c.parseTime(v);
    if (!r.ok) throw new RowProblem(field, `unparseable time: ${r.reason}`);
    if (!isPlausibleInstant(r.utc)) throw new RowProblem(field, implausibleTimeReason(v));
    if (r.ambiguous)
      this.warnings.push({
        kind: 'dst_ambiguous',
        field,
        message: `${v} occurs twice at the daylight-saving change; the earlier instant was used`,
      });
    if (r.nonexistent)
      this.warnings.push({
        kind: 'dst_nonexistent',
        field,
        message: `${v} does not exist at the daylight-saving change; read with the standard-time offset`,
      });
    if (r.localMidnight)
      this.warnings.push({
        kind: 'midnight_stamp',
        field,
        message: `${v} is exactly midnight, often a placeholder for a missing time`,
      });
    return r.utc;
  }

  number(field: string, integer: boolean): number | null {
    const v = this.text(field);
    if (v === null) return null;
    const n = Number(v);
    if (!Number.isFinite(n) || (integer && !(Number.isInteger(n) && Math.abs(n) <= MAX_INT))) {
      this.warnings.push({
        kind: 'bad_number',
        field,
        message: `"${v}" is not ${integer ? 'an integer' : 'a number'}; left empty`,
      });
      return null;
    }
    return n;
  }

  coordinates(): { lat: number | null; lon: number | null } {
    let lat = this.number('lat', false);
    let lon = this.number('lon', false);
    const loc = this.text('location');
    if (lat === null && lon === null && loc !== null) {
      // "(37.73, -122.42)" as in SF exports, or WKT "POINT (-122.42 37.73)"
      const pair = /^\(?\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*\)?$/.exec(loc);
      const wkt = /^POINT\s*\(\s*(-?\d+(?:\.\d+)?)\s+(-?\d+(?:\.\d+)?)\s*\)$/i.exec(loc);
      if (pair) {
        lat = Number(pair[1]);
        lon = Number(pair[2]);
      } else if (wkt) {
        lon = Number(wkt[1]);
        lat = Number(wkt[2]);
      } else
        this.warnings.push({
          kind: 'bad_coordinates',
          field: 'location',
          message: `"${loc}" is not a (lat, lon) pair or a WKT point`,
        });
    }
    if (
      lat !== null &&
      lon !== null &&
      (Math.abs(lat) > 90 || Math.abs(lon) > 180 || (lat === 0 && lon === 0))
    ) {
      this.warnings.push({
        kind: 'bad_coordinates',
        field: 'location',
        message: `(${lat}, ${lon}) is not a plausible location`,
      });
      return { lat: null, lon: null };
    }
    return { lat, lon };
  }

  unit(
    unitId: string,
  ): Pick<ResponseRecord, 'unit_type' | 'unit_type_source' | 'own_agency' | 'home_station'> {
    const source = this.text('unit_type');
    let unitType: UnitType = 'OTHER';
    if (source !== null) {
      const t = this.c.unitType(source);
      if (t) unitType = t;
      else
        this.warnings.push({
          kind: 'unknown_unit_type',
          field: 'unit_type',
          message: `unit type "${source}" is not in the mapping; counted as OTHER`,
        });
    }
    const own = source === null || !this.c.otherAgency.has(source.toUpperCase());
    let home = this.text('home_station');
    if (home === null && this.c.homeStation) home = this.c.homeStation.exec(unitId)?.[1] ?? null;
    return { unit_type: unitType, unit_type_source: source, own_agency: own, home_station: home };
  }

  incident(incidentId: string): IncidentRecord {
    const type = this.text('incident_type');
    let category: Category = this.mapping.defaultCategory;
    if (type !== null) {
      const c = this.c.category(type);
      if (c) category = c;
      else if (Object.keys(this.mapping.categories).length > 0) {
        this.warnings.push({
          kind: 'unmapped_incident_type',
          field: 'incident_type',
          message: `call type "${type}" has no category in the mapping; counted as ${category}`,
        });
      }
    }
    const priority = this.text('priority');
    return {
      incident_id: incidentId,
      call_received: this.time('call_received'),
      call_created: this.time('call_created'),
      closed_at: this.time('closed_at'),
      incident_type: type,
      category,
      priority,
      emergency: priority === null ? null : this.c.emergency.has(priority.toUpperCase()),
      ...this.coordinates(),
      address: this.text('address'),
      station_area: this.text('station_area'),
      battalion: this.text('battalion'),
      zone: this.text('zone'),
      risk_class: this.text('risk_class'),
      neighborhood: this.text('neighborhood'),
    };
  }
}

class RowProblem extends Error {
  constructor(
    readonly field: string,
    readonly reason: string,
  ) {
    super(reason);
  }
}

/** The incident and unit ids every row needs, or the problem that rejects the row. */
function ids(
  r: RowReader,
): { incidentId: string; unitId: string } | { ok: false; field: string; reason: string } {
  const incidentId = r.text('incident_id');
  if (incidentId === null)
    return { ok: false, field: 'incident_id', reason: 'missing incident id' };
  const unitId = r.text('unit_id');
  if (unitId === null) return { ok: false, field: 'unit_id', reason: 'missing unit id' };
  return { incidentId, unitId };
}

export function wideNormaliser(mapping: WideMapping): (get: FieldGetter) => WideResult {
  const c = common(mapping);
  return (get) => {
    const r = new RowReader(c, mapping, get);
    try {
      const id = ids(r);
      if ('ok' in id) return id;
      const { incidentId, unitId } = id;
      const incident = r.incident(incidentId);
      const stamps = {} as Record<(typeof UNIT_STAMPS)[number], number | null>;
      for (const s of UNIT_STAMPS) stamps[s] = r.time(s);
      for (const [a, b] of STAMP_ORDER) {
        const ta = a === 'call_received' ? incident.call_received : stamps[a as UnitStamp];
        const tb = stamps[b as UnitStamp];
        if (ta != null && tb != null && tb < ta) {
          r.warnings.push({
            kind: 'out_of_order',
            field: b,
            message: `${b} is ${ta - tb} s before ${a}`,
          });
        }
      }
      const cancelledText = r.text('cancelled');
      const unit = r.unit(unitId);
      const response: ResponseRecord = {
        response_id: '',
        unit_id: unitId,
        unit_type: unit.unit_type,
        unit_type_source: unit.unit_type_source,
        own_agency: unit.own_agency,
        home_station: unit.home_station,
        dispatch_order: r.number('dispatch_order', true),
        dispatched: stamps.dispatched,
        enroute: stamps.enroute,
        staging: stamps.staging,
        on_scene: stamps.on_scene,
        transport_started: stamps.transport_started,
        at_hospital: stamps.at_hospital,
        cleared: stamps.cleared,
        in_quarters: stamps.in_quarters,
        cancelled: cancelledText === null ? null : /^(1|true|yes|y|t)$/i.test(cancelledText),
        staffing: r.number('staffing', true),
      };
      const rowId =
        r.text('row_id') ??
        `${incidentId}-${unitId}-${stamps.dispatched ?? response.dispatch_order ?? ''}`;
      response.response_id = `${incidentId}|${unitId}|${rowId}`;
      return { ok: true, rowId, incident, response, warnings: r.warnings };
    } catch (e) {
      if (e instanceof RowProblem) return { ok: false, field: e.field, reason: e.reason };
      throw e;
    }
  };
}

export function eventNormaliser(mapping: EventMapping): (get: FieldGetter) => EventResult {
  const c = common(mapping);
  const status = codeMap(mapping.statusCodes);
  const canonical = new Set(Object.keys(STATUS_TO_STAMP));
  return (get) => {
    const r = new RowReader(c, mapping, get);
    try {
      const id = ids(r);
      if ('ok' in id) return id;
      const { incidentId, unitId } = id;
      const code = r.text('status');
      if (code === null) return { ok: false, field: 'status', reason: 'missing status' };
      const st = canonical.has(code.toLowerCase()) ? code.toLowerCase() : status(code);
      if (!st)
        return {
          ok: false,
          field: 'status',
          reason: `unknown status code "${code}" (known: ${[...canonical].join(', ')}, or add it to statusCodes)`,
        };
      const at = r.time('at');
      if (at === null) return { ok: false, field: 'at', reason: 'missing status time' };
      const type = r.text('incident_type');
      const priority = r.text('priority');
      const incident: Partial<IncidentRecord> = {
        call_received: r.time('call_received'),
        incident_type: type,
        category: type !== null ? (c.category(type) ?? mapping.defaultCategory) : undefined,
        priority,
        emergency: priority === null ? null : c.emergency.has(priority.toUpperCase()),
        ...r.coordinates(),
        address: r.text('address'),
        station_area: r.text('station_area'),
      };
      const eventId = r.text('event_id') ?? `${incidentId}|${unitId}|${st}|${at}`;
      const unit: Partial<ResponseRecord> = {
        ...r.unit(unitId),
        staffing: r.number('staffing', true),
      };
      // an event without a unit type says nothing about it: leave it unknown so the fold keeps the last known one
      if (unit.unit_type_source === null) {
        delete unit.unit_type;
        delete unit.own_agency;
      }
      return {
        ok: true,
        event: { event_id: eventId, incident_id: incidentId, unit_id: unitId, status: st, at },
        incident,
        unit,
        warnings: r.warnings,
      };
    } catch (e) {
      if (e instanceof RowProblem) return { ok: false, field: e.field, reason: e.reason };
      throw e;
    }
  };
}
