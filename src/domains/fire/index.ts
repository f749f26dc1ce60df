/** The fire domain: what other folders may use of it (the only way in). */
export { loadConfig } from './config.ts';
export type { FireConfig } from './config.ts';
export { PROFILES, importFireFile, importFireRecords } from './import.ts';
export type { ImportStage, ImportSummary } from './import.ts';
export { LiveModel } from './live-model.ts';
export { LiveHub, LiveService, liveRetentionSeconds } from './live-service.ts';
export { REPLAY_SOURCE, parseLiveItem } from './live.ts';
export type { LiveEvent, LiveState } from './live.ts';
export { GROUP_KEYS, SEGMENT_DEFINITIONS } from './metrics.ts';
export { PublicQuerySchema, publicNeighborhoods, publicPerformance } from './public.ts';
export { loadReplay, play } from './replay.ts';
export {
  FireQuerySchema,
  FireService,
  MetricsApiQuerySchema,
  MetricsQuerySchema,
  QuarantineQuerySchema,
} from './service.ts';
export { SEGMENTS, STANDARDS } from './standards.ts';
export { analyticVersion, incidentCount } from './service.ts';
