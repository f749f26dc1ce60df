import { UNIT_STATUS_STAMPS, UNIT_STATUSES } from '../../contracts/live.ts';

/** The canonical fire/EMS model (docs/fire-metrics.md §2), aligned with NERIS. */

export const UNIT_TYPES = [
  'ENGINE',
  'TRUCK',
  'QUINT',
  'MEDIC_ALS',
  'MEDIC_BLS',
  'RESCUE',
  'CHIEF',
  'SUPPORT',
  'OTHER',
] as const;
export type UnitType = (typeof UNIT_TYPES)[number];

export const CATEGORIES = ['EMS', 'FIRE', 'RESCUE', 'HAZMAT', 'SERVICE', 'OTHER'] as const;
export type Category = (typeof CATEGORIES)[number];

/** Unit-level stamps, in the order a response normally passes through them. */
export const UNIT_STAMPS = [
  'dispatched',
  'enroute',
  'staging',
  'on_scene',
  'transport_started',
  'at_hospital',
  'cleared',
  'in_quarters',
] as const;
export type UnitStamp = (typeof UNIT_STAMPS)[number];

export const INCIDENT_STAMPS = ['call_received', 'call_created', 'closed_at'] as const;

/** Where an incident is, as CAD files describe it: text fields kept as given. */
export const INCIDENT_PLACE_FIELDS = [
  'address',
  'station_area',
  'battalion',
  'zone',
  'risk_class',
  'neighborhood',
] as const;
export type IncidentStamp = (typeof INCIDENT_STAMPS)[number];

/**
 * Stamp pairs that must not run backwards: b before a is an out_of_order warning. Checked on every
 * wide row by both import paths (normalise.ts in JS, sql-stage.ts in SQL) from this one list.
 */
export const STAMP_ORDER: readonly (readonly ['call_received' | UnitStamp, UnitStamp])[] = [
  ['call_received', 'dispatched'],
  ['dispatched', 'enroute'],
  ['enroute', 'on_scene'],
  ['on_scene', 'transport_started'],
  ['transport_started', 'at_hospital'],
  ['dispatched', 'cleared'],
  ['on_scene', 'cleared'],
];

export interface IncidentRecord {
  incident_id: string;
  call_received: number | null;
  call_created: number | null;
  closed_at: number | null;
  incident_type: string | null;
  category: Category;
  priority: string | null;
  emergency: boolean | null;
  lat: number | null;
  lon: number | null;
  address: string | null;
  station_area: string | null;
  battalion: string | null;
  zone: string | null;
  risk_class: string | null;
  neighborhood: string | null;
}

export interface ResponseRecord extends Record<UnitStamp, number | null> {
  response_id: string;
  unit_id: string;
  unit_type: UnitType;
  unit_type_source: string | null;
  home_station: string | null;
  own_agency: boolean;
  dispatch_order: number | null;
  cancelled: boolean | null;
  staffing: number | null;
}

/** Live/narrow CAD statuses and the unit stamp each one sets (the one table of src/contracts/live.ts). */
export const STATUS_TO_STAMP: Record<string, UnitStamp> = Object.fromEntries(
  UNIT_STATUSES.map((s) => [s, UNIT_STATUS_STAMPS[s].column]),
);
export const STATUSES: string[] = UNIT_STATUSES;
