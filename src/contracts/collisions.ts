/** Safer Streets (GET /api/v1/streets/*): collision records and their analyses, docs/collisions.md. */
import type { FeatureCollection, LineString, Point, Polygon } from 'geojson';

/** KABCO severity; I: injury of unknown severity. */
export type Severity = 'K' | 'A' | 'B' | 'C' | 'O' | 'I';

interface Excluded {
  excluded: { noLocation: number };
}

export interface CrashCounts {
  crashes: number;
  bySeverity: Partial<Record<Severity, number>>;
  killed: number;
  injured: number;
  epdo: { weights: string; value: number };
}

export interface CrashPoint {
  id: string;
  date: string;
  severity: Severity;
  killed: number;
  primary: string | null;
  secondary: string | null;
  pedestrian: boolean;
  bicycle: boolean;
}

/** The crashes matching a filter: counts, and the located ones as points (staff only). */
export interface Crashes extends FeatureCollection<Point, CrashPoint>, Excluded {
  summary: CrashCounts;
}

export interface HexagonCounts {
  cell: string;
  lat: number;
  lon: number;
  crashes: number;
  ka: number;
  ksi: number;
  epdo: number;
}

export interface Hexagons extends FeatureCollection<Polygon, HexagonCounts>, Excluded {
  resolution: number;
  weights: string;
  crashes: number;
}

export interface HotspotCell {
  cell: string;
  lat: number;
  lon: number;
  polygon: number[][][];
  value: number;
  z: number;
  p: number;
  /** the false-discovery-rate adjusted p */
  q: number;
  /** 3, 2, 1: hot at 99, 95, 90 % confidence; negative: cold; 0: neither */
  class: number;
}

/** Getis-Ord Gi* on H3 hexagons. */
export interface Hotspots extends Excluded {
  weights: string;
  crashes: number;
  cells: HotspotCell[];
  method: string;
  resolution: number;
  value: 'crashes' | 'ksi' | 'epdo';
  neighbours: number;
  features: number;
  meanValue: number;
  fdr: boolean;
  hot: number;
  cold: number;
}

export interface RankedLocation {
  rank: number;
  name: string;
  crashes: number;
  ka: number;
  ksi: number;
  epdo: number;
  bySeverity: Record<string, number>;
  lat: number | null;
  lon: number | null;
  firstDate: string;
  lastDate: string;
}

export interface Ranking extends Excluded {
  kind: 'intersection' | 'corridor';
  by: 'crashes' | 'ka' | 'ksi' | 'epdo';
  weights: string;
  withinFt: number;
  total: number;
  unplaced: number;
  locations: RankedLocation[];
}

export interface HinCorridor {
  name: string;
  fromM: number;
  toM: number;
  miles: number;
  crashes: number;
  ka: number;
  ksi: number;
  coordinates: [number, number][];
}

/** The high-injury network: "p% of miles carry q% of KSI", its corridors and their lines. */
export interface HighInjuryNetwork {
  statement: string;
  method: 'network' | 'road-name';
  note: string | null;
  filter: { from: number | undefined; to: number | undefined };
  parameters: {
    windowM: number;
    stepM: number;
    toleranceM: number;
    score: string;
    cover: number;
    minKa: number;
    requireNameMatch: boolean;
    windowMiles: number;
    stepMiles: number;
    scoreLabel: string;
  };
  years: [number, number] | null;
  network: { chains: number; miles: number; basis: string };
  crashes: { total: number; ksi: number; snapped: number; unsnapped: number; noLocation: number };
  hin: {
    miles: number;
    ksi: number;
    crashes: number;
    ka: number;
    shareOfMiles: number;
    shareOfKsi: number;
    corridors: HinCorridor[];
  };
  geojson: FeatureCollection<
    LineString,
    { name: string; miles: number; crashes: number; ka: number; ksi: number }
  >;
}

export interface TargetYear {
  year: number;
  value: number;
  low: number;
  high: number;
  complete: boolean;
  glidePath: number | null;
  onTrack: boolean | null;
}

/** Progress to a reduction target, with exact intervals (docs/collisions.md). */
export interface TargetProgress {
  metric: 'injury' | 'ka' | 'ksi' | 'crashes';
  label: string;
  baseline: { years: number[]; value: number; total: number; low: number; high: number };
  target: { reduction: number; year: number; value: number };
  lastCompleteYear: number;
  years: TargetYear[];
  months: { month: string; value: number; rolling12: number | null }[];
  latest12: {
    period: string;
    value: number;
    low: number;
    high: number;
    change: number | null;
    pValue: number;
    significant: boolean;
    onTrack: boolean;
    verdict: string;
  } | null;
  definitions: { baseline: string; glidePath: string; interval: string; test: string };
}

/** An engineering, education or enforcement action. */
export interface StreetAction {
  id: number;
  kind: 'engineering' | 'education' | 'enforcement';
  title: string;
  description?: string;
  lat: number;
  lon: number;
  radiusM: number;
  road?: string;
  started: string;
  finished?: string;
  createdBy: string | null;
  createdAt: string;
}

interface Unavailable {
  unavailable: string;
}

/** Before/after evaluation of actions: naive (biased), comparison group, Empirical Bayes. */
export interface ActionEvaluation {
  years: number;
  severity: 'ka' | 'all';
  sites: {
    action: number;
    title: string;
    before: number;
    after: number;
    beforeKa: number;
    afterKa: number;
    beforeYears: number;
    afterYears: number;
    periods: { before: [string, string]; after: [string, string] };
  }[];
  incompletePeriods: number[];
  naive: {
    cmf: number | null;
    before: number;
    after: number;
    beforeYears: number;
    afterYears: number;
    reductionPercent: number | null;
    caution: string;
  };
  comparisonGroup:
    | {
        significance: string;
        cmf: number;
        se: number;
        expectedWithout: number;
        comparisonBefore: number;
        comparisonAfter: number;
        reductionPercent: number;
      }
    | Unavailable;
  empiricalBayes:
    | {
        significance: string;
        cmf: number;
        se: number;
        expectedWithout: number;
        reductionPercent: number;
        sites: {
          action: number;
          predictedBefore: number;
          weight: number;
          expectedBefore: number;
          ratio: number;
          expectedAfter: number;
          observedAfter: number;
        }[];
      }
    | Unavailable;
}
