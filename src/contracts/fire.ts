/** Fire response analytics (GET /api/v1/fire/*): docs/fire-metrics.md. */

export type SegmentId =
  | 'alarmAnswering'
  | 'callProcessing'
  | 'turnout'
  | 'travel'
  | 'totalResponse'
  | 'firstUnitTurnout'
  | 'firstUnitTravel'
  | 'commitment'
  | 'erf';

/** One response-time segment over a set of incidents (docs/fire-metrics.md §3). */
export interface Segment {
  n: number;
  p50: number | null;
  p90: number | null;
  mean: number | null;
  min: number | null;
  max: number | null;
  /** values left out, by reason */
  excluded: Partial<Record<string, number>>;
  /** values with an objective in the chosen standard */
  graded: number;
  compliance: number | null;
  requiredFraction: number | null;
  pass: boolean | null;
  /** the objective in seconds, or a list when it differs by category or unit type */
  objective: number | string | null;
}

/** The filters an answer was computed for, echoed back. */
export interface FireFilters {
  timeZone: string;
  /** First local date included, YYYY-MM-DD (by call received). */
  from?: string;
  /** Last local date included, YYYY-MM-DD. */
  to?: string;
  priority?: 'all' | 'emergency';
  category?: string[];
  station?: string[];
  unitType?: string[];
}

interface Described {
  filters: FireFilters;
}

export interface MetricsMethod {
  percentiles: string;
  capSeconds: number;
  definitions: Record<SegmentId, string>;
}

/** Every segment over the whole filtered set. */
export type FireMetrics = Described &
  Record<SegmentId, Segment> & {
    standard: { id: string; name: string } | null;
    incidents: number;
    unitResponses: number;
    method: MetricsMethod;
  };

export type MetricsGroup = Record<SegmentId, Segment> & {
  key: string;
  keys: Partial<Record<string, string>>;
  incidents: number;
  unitResponses: number;
};

/** Every segment per group (`?by=station`, `?by=month`, …). */
export interface GroupedFireMetrics extends Described {
  standard: { id: string; name: string } | null;
  by: string;
  groups: MetricsGroup[];
  method: MetricsMethod;
}

export interface FireVolume extends Described {
  definition: string;
  incidents: number;
  /** 7 rows (Monday first) of 24 hours */
  hourOfWeek: number[][];
  byDay: { date: string; incidents: number }[];
  byCategory: Record<string, number>;
  excluded: { missing_received: number };
}

export interface UnitUtilization {
  unit: string;
  unitType: string;
  responses: number;
  busyHours: number;
  /** busy time ÷ staffed time (24 h a day) */
  uhu: number;
  transports: number;
  /** transports ÷ unit hours (the EMS definition) */
  transportsPerUnitHour: number;
  /** UHU in each local hour of day, 0–23 */
  byHour: number[];
}

/** Empty when no incident has a period to measure. */
export interface FireUtilization extends Described {
  definition?: string;
  period?: { start: number; end: number; hours: number; basis: 'filter' | 'data' };
  units?: UnitUtilization[];
  byUnitType?: {
    unitType: string;
    units: number;
    meanUhu: number;
    maxUhu: number;
    maxUnit: string;
  }[];
  byHour?: number[];
  excluded?: { missing_stamp: number; over_cap: number; other_agency: number };
}

export interface FireConcurrency extends Described {
  definition: string;
  atArrival: Record<string, number>;
  atArrivalSameArea: Record<string, number>;
  shareOfTimeAtLeast: Record<string, number>;
  maxInProgress: number;
  firstUnitTravelByLevel: { level: string; n: number; p50: number | null; p90: number | null }[];
  excluded: { no_end_time: number };
}

export interface StationReliability {
  station: string;
  incidents: number;
  firstDueFirst: number;
  reliability: number | null;
  /** of the incidents the first-due station missed: its units were all committed elsewhere */
  firstDueBusy: number;
  coveredBy: Record<string, number>;
}

export interface FireReliability extends Described {
  definition: string;
  stations: StationReliability[];
  overall: { incidents: number; firstDueFirst: number; reliability: number | null };
  excluded: { no_station_area: number; no_arrival: number };
}

/** The ERF curve: share of incidents with the full force assembled, by minute after the call. */
export interface FireErf extends Described {
  definition: string;
  persons: number;
  incidents: number;
  assembled: number;
  minutes: { minute: number; share: number }[];
}

export interface FireQuality extends Described {
  incidents: number;
  unitResponses: number;
  missingStamps: Record<string, number>;
  outOfOrder: Record<string, number>;
  overCap: Record<string, number>;
  missingCoordinates: number;
  missingStationArea: number;
  unknownUnitTypes: { unitType: string; responses: number }[];
  bySource: { source: string; incidents: number; unitResponses: number }[];
  byMonth: {
    month: string;
    incidents: number;
    unitResponses: number;
    missingEnroute: number;
    missingOnScene: number;
    outOfOrder: number;
  }[];
  imports: { batches: number; quarantined: number; warnings: Record<string, number> };
}
