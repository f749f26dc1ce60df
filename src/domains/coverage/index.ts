/** The coverage domain: what other folders may use of it (the only way in). */
export { calibrate } from './calibrate.ts';
export { loadCoverageContext } from './context.ts';
export { COVERAGE_DEFAULTS, applyScenario, bandsGeoJson, compare, coverage } from './coverage.ts';
export type { Scenario } from './coverage.ts';
export { placeStations } from './place.ts';
export { importRoadsFile } from './roads.ts';
export { CoverageService, ScenarioQuerySchema } from './service.ts';
export { simulate } from './simulate.ts';
export { importLayerFile, importStationsFile } from './stations.ts';
export { layerGeoJson, mapLayerNames, mappedExtent } from './layers.ts';
