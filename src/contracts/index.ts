/**
 * The answers of the HTTP API, shared by the server and the web app: pure types, so the web bundle
 * can import them. Each route declaration whose path is a key below must answer that type
 * (interfaces/http/route.ts), and the web client (web/src/api.ts) reads its types from here, so a
 * mismatch fails to compile on either side.
 */
import type { Principal } from './accounts.ts';
import type { CityFacts, MapLayer } from './city.ts';
import type {
  ActionEvaluation,
  Crashes,
  Hexagons,
  HighInjuryNetwork,
  Hotspots,
  Ranking,
  StreetAction,
  TargetProgress,
} from './collisions.ts';
import type { CoverageStations, Placement, Scenario } from './coverage.ts';
import type {
  FireConcurrency,
  FireErf,
  FireMetrics,
  FireQuality,
  FireReliability,
  FireUtilization,
  FireVolume,
  GroupedFireMetrics,
} from './fire.ts';
import type { Alignment, Capital, Pbb, PlanAction, PlanStatus, WwcCriterion } from './strategy.ts';

export type * from './accounts.ts';
export type * from './city.ts';
export type * from './collisions.ts';
export type * from './coverage.ts';
export type * from './fire.ts';
export type * from './strategy.ts';

/** What each GET answers, by its declared path (`:name` a path parameter). */
export interface GetAnswers {
  '/api/public/city': CityFacts;
  '/api/public/geo/:layer': MapLayer;
  '/api/auth/me': Principal;
  '/api/v1/fire/metrics': FireMetrics | GroupedFireMetrics;
  '/api/v1/fire/volume': FireVolume;
  '/api/v1/fire/utilization': FireUtilization;
  '/api/v1/fire/concurrency': FireConcurrency;
  '/api/v1/fire/reliability': FireReliability;
  '/api/v1/fire/erf': FireErf;
  '/api/v1/fire/quality': FireQuality;
  '/api/v1/streets/crashes': Crashes;
  '/api/v1/streets/hexagons': Hexagons;
  '/api/v1/streets/hotspots': Hotspots;
  '/api/v1/streets/rank': Ranking;
  '/api/v1/streets/hin': HighInjuryNetwork;
  '/api/v1/streets/target': TargetProgress;
  '/api/v1/streets/actions': StreetAction[];
  '/api/v1/streets/evaluate': ActionEvaluation;
  '/api/v1/coverage/stations': CoverageStations;
  '/api/v1/coverage/scenario': Scenario;
  '/api/v1/coverage/place': Placement;
  '/api/v1/strategy/status': PlanStatus;
  '/api/v1/strategy/alignment': Alignment;
  '/api/v1/strategy/pbb': Pbb;
  '/api/v1/strategy/capital': Capital;
  '/api/v1/strategy/actions': PlanAction[];
  '/api/v1/strategy/wwc': WwcCriterion[];
}

export type GetPath = keyof GetAnswers;

/** The answer to a GET of `P` with query `Q`: the metrics come per group when asked `by`. */
export type Answer<P extends GetPath, Q = unknown> = P extends '/api/v1/fire/metrics'
  ? Q extends { by: string }
    ? GroupedFireMetrics
    : FireMetrics
  : GetAnswers[P];
