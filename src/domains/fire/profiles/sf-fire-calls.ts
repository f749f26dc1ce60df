import { type WideMapping, WideMappingSchema } from '../mapping.ts';

/**
 * San Francisco "Fire Department Calls for Service" (DataSF nuek-vuh3): one row per unit response.
 * Aliases cover the title-case export, the older `Neighborhood  District` name and the API's snake_case.
 */
export const sfFireCalls: WideMapping = WideMappingSchema.parse({
  name: 'sf-fire-calls',
  source: 'sf-fire-calls',
  timeZone: 'America/Los_Angeles',
  timeFormat: 'MM/DD/YYYY hh:mm:ss A',
  columns: {
    row_id: ['RowID', 'row_id'],
    incident_id: ['Incident Number', 'incident_number'],
    unit_id: ['Unit ID', 'unit_id'],
    call_received: ['Received DtTm', 'received_dttm', 'received_timestamp'],
    call_created: ['Entry DtTm', 'entry_dttm', 'entry_timestamp'],
    dispatched: ['Dispatch DtTm', 'dispatch_dttm', 'dispatch_timestamp'],
    enroute: ['Response DtTm', 'response_dttm', 'response_timestamp'],
    on_scene: ['On Scene DtTm', 'on_scene_dttm', 'on_scene_timestamp'],
    transport_started: ['Transport DtTm', 'transport_dttm', 'transport_timestamp'],
    at_hospital: ['Hospital DtTm', 'hospital_dttm', 'hospital_timestamp'],
    cleared: ['Available DtTm', 'available_dttm', 'available_timestamp'],
    incident_type: ['Call Type', 'call_type'],
    priority: ['Final Priority', 'final_priority'],
    location: ['Location', 'location', 'case_location'],
    address: ['Address', 'address'],
    station_area: ['Station Area', 'station_area'],
    battalion: ['Battalion', 'battalion'],
    zone: ['Box', 'box'],
    neighborhood: ['Neighborhooods - Analysis Boundaries', 'Neighborhoods - Analysis Boundaries', 'Neighborhood  District',
      'Neighborhood District', 'neighborhoods_analysis_boundaries', 'analysis_neighborhood', 'neighborhood_district'],
    unit_type: ['Unit Type', 'unit_type'],
    dispatch_order: ['Unit sequence in call dispatch', 'unit_sequence_in_call_dispatch'],
  },
  emergencyPriorities: ['3'],
  unitTypes: {
    ENGINE: 'ENGINE', TRUCK: 'TRUCK', MEDIC: 'MEDIC_ALS', CHIEF: 'CHIEF', 'RESCUE CAPTAIN': 'CHIEF',
    'RESCUE SQUAD': 'RESCUE', SUPPORT: 'SUPPORT', INVESTIGATION: 'SUPPORT', AIRPORT: 'OTHER', PRIVATE: 'MEDIC_BLS',
  },
  otherAgencyUnitTypes: ['PRIVATE'],
  categories: {
    'Medical Incident': 'EMS',
    'Structure Fire': 'FIRE', 'Outside Fire': 'FIRE', 'Vehicle Fire': 'FIRE', Alarms: 'FIRE', 'Marine Fire': 'FIRE',
    'Smoke Investigation (Outside)': 'FIRE', Explosion: 'FIRE',
    'Traffic Collision': 'RESCUE', 'Water Rescue': 'RESCUE', 'Elevator / Escalator Rescue': 'RESCUE',
    'High Angle Rescue': 'RESCUE', 'Confined Space / Structure Collapse': 'RESCUE', 'Train / Rail Incident': 'RESCUE',
    'Industrial Accidents': 'RESCUE', 'Extrication / Entrapped (Machinery, Vehicle)': 'RESCUE',
    'Gas Leak (Natural and LP Gases)': 'HAZMAT', 'Fuel Spill': 'HAZMAT', 'Electrical Hazard': 'HAZMAT',
    'Odor (Strange / Unknown)': 'HAZMAT', HazMat: 'HAZMAT', 'Suspicious Package': 'HAZMAT',
    'Citizen Assist / Service Call': 'SERVICE', 'Assist Police': 'SERVICE', 'Watercraft in Distress': 'RESCUE',
    'Mutual Aid / Assist Outside Agency': 'SERVICE', Administrative: 'SERVICE', Other: 'OTHER',
  },
  defaultCategory: 'OTHER',
  // SFFD engines, trucks and rescue squads carry their station's number: E32, T13, RS1 → 32, 13, 1.
  homeStationFromUnit: '^(?:E|T|RS|Q)0*(\\d+)$',
});
