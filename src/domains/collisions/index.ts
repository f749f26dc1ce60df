/** The collisions domain: what other folders may use of it (the only way in). */
export {
  ActionInputSchema,
  SpfSchema,
  addAction,
  evaluateActions,
  listActions,
} from './actions.ts';
export type { Spf } from './actions.ts';
export { CrashFilterSchema, loadCrashes } from './crashes.ts';
export { hinGeoJson } from './hin.ts';
export { COLLISION_PROFILES, importCollisionsFile } from './import.ts';
export { toAsciiGrid } from './kde.ts';
export { PROFILES } from './profiles.ts';
export { publicStreets } from './public.ts';
export type { PublicStreets } from './public.ts';
export {
  HexQuerySchema,
  HinQuerySchema,
  HotspotQuerySchema,
  KdeQuerySchema,
  RankQuerySchema,
  TargetQuerySchema,
  hexQuery,
  hinQuery,
  hotspotQuery,
  kdeQuery,
  rankQuery,
  targetQuery,
} from './queries.ts';
export {
  StreetsSummaryQuerySchema,
  WEIGHT_SETS,
  injuryCrashWindows,
  streetsSummary,
  summariseCrashes,
} from './summary.ts';
export { collisionExtent, collisionPeriod } from './queries.ts';
