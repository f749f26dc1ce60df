/** Coverage: stations, drive times and what they reach (GET /api/v1/coverage/*), docs/coverage.md. */
import type { FeatureCollection, MultiPoint, MultiPolygon } from 'geojson';

export interface CoverageUnit {
  id: string;
  type: string;
  staffing: number;
  /** share of the time the unit is committed */
  busyFraction: number;
}

export interface CoverageStation {
  id: string;
  name: string | null;
  lat: number;
  lon: number;
  /** false when no road of the network is near enough to start a drive from */
  onNetwork: boolean;
  units: CoverageUnit[];
}

export interface Calibration {
  factor: number;
  n: number;
  medianAbsErrorS: number;
  observedP90: number;
  predictedP90: number;
  fittedAt: string;
  network: string;
}

export interface CoverageStations {
  network: string;
  /** [west, south, east, north] */
  bbox: [number, number, number, number];
  calibration: Calibration | null;
  clip: string;
  stations: CoverageStation[];
}

/** What one deployment (today's or the what-if) reaches within the travel objective. */
export interface Coverage {
  minutes: number;
  network: string;
  clip: string;
  calibration: { factor: number; fittedAt: string } | { factor: number; note: string };
  incidents: number;
  covered: number;
  coveredShare: number;
  probabilistic: { expectedCovered: number; expectedCoveredShare: number; definition: string };
  erf: {
    minutes: number;
    staff: number;
    covered: number;
    coveredShare: number;
    definition: string;
  };
  predictedTravel: { n: number; p50: number | null; p90: number | null; unreachable: number };
  residents: {
    layer: string;
    weighting: string;
    units: number;
    leftOut: number;
    total: number;
    covered: number;
    coveredShare: number;
    definition: string;
  } | null;
  excluded: { noLocation: number; outsideNetwork: number; stationsOutside: string[] };
  stations: {
    id: string;
    name: string | null;
    lat: number;
    lon: number;
    units: string[];
    firstDueIncidents: number;
    coveredFirstDue: number;
  }[];
}

interface Both<T> {
  today: T;
  scenario: T;
}

/**
 * Drive-time bands: per station or their union (`scope`, `band`, `bandIndex`, `station`), the
 * uncovered area and where the effective response force assembles.
 */
export type Bands = FeatureCollection<MultiPolygon>;

/** Today against a what-if (stations closed, added, moved). */
export interface Scenario extends Both<Coverage> {
  comparison: {
    coveredShare: Both<number> & { change: number };
    newlyCovered: number;
    lost: number;
    predictedP90: Both<number | null>;
    expectedCoveredShare: Both<number>;
    erfCoveredShare: Both<number>;
    residentsCoveredShare: Both<number> | null;
  };
  /** the incidents the what-if leaves outside the objective */
  uncovered: MultiPoint;
  /** with `bands=true` */
  bands?: Bands;
  ms: number;
}

export interface Site {
  lat: number;
  lon: number;
  demandCells: number;
}

/** Maximal covering location: k new sites by greedy search and by HiGHS, with the bound and gap. */
export interface Placement {
  k: number;
  minutes: number;
  network: string;
  clip: string;
  today: { covered: number; incidents: number; coveredShare: number };
  demandCells: number;
  uncoveredIncidents: number;
  candidates: number;
  greedy: { value: number; sites: Site[]; ms: number };
  refined: { value: number; bound: number; status: string; ms: number } | null;
  best: { value: number; coveredShare: number; sites: Site[] };
  gap: { greedy: number; best: number } | null;
  reachMs: number;
}
