import { type EventMapping, EventMappingSchema } from '../mapping.ts';
import { sfFireCalls } from './sf-fire-calls.ts';

/**
 * Narrow unit-status events (incident, unit, status code, time), as CAD systems emit them live.
 * The status-code map covers common vendor codes; a mapping file can replace it.
 */
export const cadStatusEvents: EventMapping = EventMappingSchema.parse({
  shape: 'events',
  name: 'cad-status-events',
  source: 'cad',
  timeFormat: 'iso',
  columns: {
    event_id: ['id', 'event_id'],
    incident_id: ['incident', 'incident_id', 'incident_number'],
    unit_id: ['unit', 'unit_id'],
    status: ['status', 'status_code', 'code'],
    at: ['at', 'time', 'timestamp', 'status_time'],
    call_received: ['received', 'call_received'],
    incident_type: ['type', 'incident_type', 'call_type'],
    priority: ['priority'],
    lat: ['lat', 'latitude'],
    lon: ['lon', 'lng', 'longitude'],
    address: ['address', 'location_text'],
    station_area: ['station_area', 'first_due'],
    unit_type: ['unit_type'],
    home_station: ['home_station', 'station'],
    staffing: ['staffing'],
  },
  emergencyPriorities: ['1', '3', 'E', 'emergency', 'EMERGENCY', 'high'],
  otherAgencyUnitTypes: ['PRIVATE', 'MUTUAL_AID'],
  // common English call types (as San Francisco's) → categories; a mapping file can replace them
  categories: sfFireCalls.categories,
  unitTypes: {
    ENGINE: 'ENGINE', E: 'ENGINE', TRUCK: 'TRUCK', T: 'TRUCK', LADDER: 'TRUCK', QUINT: 'QUINT', MEDIC: 'MEDIC_ALS',
    ALS: 'MEDIC_ALS', BLS: 'MEDIC_BLS', RESCUE: 'RESCUE', CHIEF: 'CHIEF', BC: 'CHIEF', SUPPORT: 'SUPPORT',
    ...sfFireCalls.unitTypes,
  },
  statusCodes: {
    DISP: 'dispatched', DISPATCHED: 'dispatched', DS: 'dispatched',
    ENRT: 'enroute', ENROUTE: 'enroute', ER: 'enroute', RESP: 'enroute',
    STAGED: 'staging', STAGING: 'staging',
    ONSC: 'on_scene', ON_SCENE: 'on_scene', ONSCENE: 'on_scene', OS: 'on_scene', ARRV: 'on_scene',
    TRAN: 'transporting', TRANSPORTING: 'transporting', TR: 'transporting',
    ATHS: 'at_hospital', AT_HOSPITAL: 'at_hospital', AH: 'at_hospital',
    AVAIL: 'available', AVAILABLE: 'available', AOR: 'available', AV: 'available', CLR: 'available',
    INQTRS: 'in_quarters', IN_QUARTERS: 'in_quarters', AQ: 'in_quarters',
  },
});
