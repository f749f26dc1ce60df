/**
 * The live board's contract: what the server sends on /api/v1/live/stream and the web board reads.
 * Pure types and constants (no imports), so the server and the web app share one copy.
 */

/**
 * Every unit status, in the order a response passes through them, and the stamp each sets: `field`
 * on a LiveUnit, `column` in unit_responses. This one table drives the import's fold of status
 * events, the database snapshot, the in-memory model and the board. A unit's status is the furthest
 * of them whose stamp has been reached (an on-scene stamp outranks a later en-route one).
 */
export const UNIT_STATUS_STAMPS = {
  dispatched: { field: 'dispatched', column: 'dispatched' },
  enroute: { field: 'enroute', column: 'enroute' },
  staging: { field: 'staging', column: 'staging' },
  on_scene: { field: 'onScene', column: 'on_scene' },
  transporting: { field: 'transport', column: 'transport_started' },
  at_hospital: { field: 'hospital', column: 'at_hospital' },
  available: { field: 'cleared', column: 'cleared' },
  in_quarters: { field: 'inQuarters', column: 'in_quarters' },
} as const;

export type UnitStatus = keyof typeof UNIT_STATUS_STAMPS;
export const UNIT_STATUSES = Object.keys(UNIT_STATUS_STAMPS) as UnitStatus[];
export type StampField = (typeof UNIT_STATUS_STAMPS)[UnitStatus]['field'];
/** Every stamp of a unit response, epoch seconds; null until it has happened. */
export type UnitStamps = Record<StampField, number | null>;

/** A unit in one of these is free again; in any other it is committed to its incident. */
export const FREE_STATUSES: readonly UnitStatus[] = ['available', 'in_quarters'];

export interface LiveUnit extends UnitStamps {
  unit: string;
  unitType: string;
  homeStation: string | null;
  status: UnitStatus;
  /** when it took its status (the status's stamp) */
  since: number;
}

export interface LiveIncident {
  id: string;
  type: string | null;
  category: string;
  priority: string | null;
  emergency: boolean | null;
  received: number | null;
  lat: number | null;
  lon: number | null;
  address: string | null;
  station: string | null;
  /** a unit is still committed to it; an update with active false takes it off the board */
  active: boolean;
  units: LiveUnit[];
}

export interface LiveAlert {
  kind: 'long_turnout' | 'long_travel' | 'long_commitment' | 'fatigue' | 'station_empty';
  message: string;
  incident?: string;
  unit?: string;
  station?: string;
}

/** Per home station: its units free (in quarters or available) and committed. */
export interface LiveStation {
  station: string;
  available: string[];
  committed: string[];
}

/** A snapshot (every live incident) or an update (the incidents an event batch touched). */
export interface LiveState {
  now: number;
  incidents: LiveIncident[];
  alerts: LiveAlert[];
  stations: LiveStation[];
}
