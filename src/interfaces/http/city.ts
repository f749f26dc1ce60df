import { collisionExtent, collisionPeriod } from '../../domains/collisions/index.ts';
import { layerGeoJson, mapLayerNames, mappedExtent } from '../../domains/coverage/index.ts';
import type { FireService } from '../../domains/fire/index.ts';
import type { Store } from '../../platform/db.ts';
import { unionOf } from '../../platform/geo.ts';
import type { CityFacts } from '../../contracts/index.ts';

export { layerGeoJson };

/**
 * What the web app needs to know about the city it shows, so no page carries one city's extent or
 * dates: the configured name and credits, the map extent (configured, else the imported boundary,
 * else the stations, else the middle 98% of the data), the map layers that were imported, and the
 * months each domain has data for (pages default to the latest).
 */
export async function cityFacts(store: Store, fire: FireService): Promise<CityFacts> {
  const config = fire.config;
  return {
    name: config.name,
    timeZone: config.timeZone,
    attribution: config.attribution,
    bounds:
      config.bounds ??
      (await mappedExtent(store)) ??
      unionOf(await fire.positionExtent(), await collisionExtent(store)),
    layers: await mapLayerNames(store),
    periods: { fire: await fire.dataMonths(), collisions: await collisionPeriod(store) },
  };
}
