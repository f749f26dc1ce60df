import { UserError } from './errors.ts';
import type { Store } from './db.ts';

/**
 * Versioned schema. The bulk tables (source rows, incidents, unit responses, status events) carry
 * no primary-key index: an import keeps their keys unique itself (it diffs the staged rows against
 * the stored ones, deletes the changed keys and inserts, all in one transaction), and DuckDB's
 * index maintenance would otherwise dominate bulk loads. A test asserts the uniqueness.
 *
 * A migration is applied once, in order, inside a transaction; its version is
 * recorded in schema_migrations. Never edit a released migration: add a new one.
 * Instants are TIMESTAMPTZ (UTC); the agency's zone is applied when reading local fields.
 */
const MIGRATIONS: { version: number; name: string; sql: string }[] = [
  {
    version: 1,
    name: 'fire canonical model, raw rows, batches, quarantine',
    sql: `
      CREATE TABLE import_batches (
        batch_id INTEGER PRIMARY KEY,
        domain VARCHAR NOT NULL,
        file VARCHAR NOT NULL,
        file_sha256 VARCHAR,
        profile VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        rows_read INTEGER NOT NULL DEFAULT 0,
        inserted INTEGER NOT NULL DEFAULT 0,
        updated INTEGER NOT NULL DEFAULT 0,
        unchanged INTEGER NOT NULL DEFAULT 0,
        quarantined INTEGER NOT NULL DEFAULT 0,
        warnings VARCHAR,
        -- the header of a delimited file (JSON array): a raw CSV row is its array of values in this order
        columns VARCHAR
      );
      CREATE TABLE source_rows (
        source VARCHAR NOT NULL,
        source_row_id VARCHAR NOT NULL,
        batch_id INTEGER NOT NULL,
        line INTEGER NOT NULL,
        raw VARCHAR NOT NULL
      );
      CREATE TABLE incidents (
        incident_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        call_received TIMESTAMPTZ,
        call_created TIMESTAMPTZ,
        incident_type VARCHAR,
        category VARCHAR NOT NULL,
        priority VARCHAR,
        emergency BOOLEAN,
        lat DOUBLE,
        lon DOUBLE,
        address VARCHAR,
        station_area VARCHAR,
        battalion VARCHAR,
        zone VARCHAR,
        risk_class VARCHAR,
        neighborhood VARCHAR,
        closed_at TIMESTAMPTZ,
        batch_id INTEGER NOT NULL
      );
      CREATE TABLE unit_responses (
        response_id VARCHAR NOT NULL,
        incident_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        source_row_id VARCHAR,
        unit_id VARCHAR NOT NULL,
        unit_type VARCHAR NOT NULL,
        unit_type_source VARCHAR,
        home_station VARCHAR,
        own_agency BOOLEAN NOT NULL,
        dispatch_order INTEGER,
        dispatched TIMESTAMPTZ,
        enroute TIMESTAMPTZ,
        staging TIMESTAMPTZ,
        on_scene TIMESTAMPTZ,
        transport_started TIMESTAMPTZ,
        at_hospital TIMESTAMPTZ,
        cleared TIMESTAMPTZ,
        in_quarters TIMESTAMPTZ,
        cancelled BOOLEAN,
        staffing INTEGER,
        batch_id INTEGER NOT NULL
      );
      CREATE TABLE unit_status_events (
        event_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        incident_id VARCHAR NOT NULL,
        unit_id VARCHAR NOT NULL,
        status VARCHAR NOT NULL,
        status_at TIMESTAMPTZ NOT NULL,
        seq BIGINT NOT NULL,
        unit_type VARCHAR,
        unit_type_source VARCHAR,
        own_agency BOOLEAN,
        home_station VARCHAR,
        staffing INTEGER,
        batch_id INTEGER NOT NULL
      );
      CREATE TABLE quarantine (
        quarantine_id BIGINT PRIMARY KEY,
        batch_id INTEGER NOT NULL,
        file VARCHAR NOT NULL,
        line INTEGER,
        field VARCHAR,
        reason VARCHAR NOT NULL,
        raw VARCHAR
      );
      CREATE TABLE import_warnings (
        batch_id INTEGER NOT NULL,
        file VARCHAR NOT NULL,
        line INTEGER,
        field VARCHAR,
        kind VARCHAR NOT NULL,
        message VARCHAR NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'accounts, API tokens, sessions, live event log',
    sql: `
      CREATE TABLE users (
        username VARCHAR PRIMARY KEY,
        password_hash VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE TABLE api_tokens (
        token_hash VARCHAR PRIMARY KEY,
        name VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        revoked_at TIMESTAMPTZ
      );
      CREATE TABLE sessions (
        session_hash VARCHAR PRIMARY KEY,
        username VARCHAR NOT NULL,
        role VARCHAR NOT NULL,
        expires_at TIMESTAMPTZ NOT NULL
      );
      -- What the live stream sent, so that a client reconnecting with Last-Event-ID misses nothing.
      CREATE TABLE live_events (
        seq BIGINT PRIMARY KEY,
        sent_at TIMESTAMPTZ NOT NULL,
        payload VARCHAR NOT NULL
      );
    `,
  },
  {
    version: 3,
    name: 'budget lines by phase, with department crosswalk',
    sql: `
      CREATE TABLE budget_lines (
        line_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        fiscal_year_end INTEGER NOT NULL,
        fiscal_label VARCHAR NOT NULL,
        phase VARCHAR NOT NULL,
        as_of DATE,
        budget_type VARCHAR NOT NULL,
        direction VARCHAR NOT NULL,
        fund VARCHAR NOT NULL,
        department VARCHAR,
        department_source VARCHAR,
        division VARCHAR,
        account_category VARCHAR,
        account VARCHAR,
        project_id VARCHAR,
        amount DECIMAL(18, 2) NOT NULL,
        batch_id INTEGER NOT NULL
      );
    `,
  },
  {
    version: 4,
    name: 'strategic plans as loaded',
    sql: `
      -- every plan loaded, kept as its YAML text; the latest is the current plan
      CREATE TABLE strategy_plans (
        plan_id INTEGER PRIMARY KEY,
        loaded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        source VARCHAR NOT NULL,
        yaml VARCHAR NOT NULL
      );
    `,
  },
  {
    version: 5,
    name: 'measure actuals reported from CSV',
    sql: `
      CREATE TABLE measure_actuals (
        measure_id VARCHAR NOT NULL,
        period VARCHAR NOT NULL,
        value DOUBLE NOT NULL,
        source VARCHAR NOT NULL,
        loaded_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 6,
    name: 'budget requests, their scores and decisions (append-only audit trail)',
    sql: `
      CREATE TABLE budget_requests (
        request_id INTEGER PRIMARY KEY,
        fiscal_year_end INTEGER NOT NULL,
        department VARCHAR NOT NULL,
        kind VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        amount DECIMAL(18, 2) NOT NULL,
        fte DOUBLE,
        goal_ids VARCHAR NOT NULL,
        measure_ids VARCHAR NOT NULL,
        created_by VARCHAR NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      -- scores and decisions are only ever added: the latest is in force, the earlier ones are the history
      CREATE TABLE request_scores (
        request_id INTEGER NOT NULL,
        criterion VARCHAR NOT NULL,
        round VARCHAR NOT NULL,
        scorer VARCHAR NOT NULL,
        score INTEGER NOT NULL,
        rationale VARCHAR,
        scored_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
      CREATE TABLE request_decisions (
        request_id INTEGER NOT NULL,
        decision VARCHAR NOT NULL,
        amount DECIMAL(18, 2),
        rationale VARCHAR NOT NULL,
        decided_by VARCHAR NOT NULL,
        decided_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 7,
    name: 'road collisions',
    sql: `
      CREATE TABLE collisions (
        case_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        collision_date DATE NOT NULL,
        -- minutes after local midnight; NULL when the source says the time is unknown
        collision_minute INTEGER,
        severity VARCHAR NOT NULL,
        killed INTEGER NOT NULL,
        injured INTEGER NOT NULL,
        severe_injured INTEGER,
        pedestrian BOOLEAN NOT NULL,
        bicycle BOOLEAN NOT NULL,
        motorcycle BOOLEAN NOT NULL,
        lat DOUBLE,
        lon DOUBLE,
        location_source VARCHAR,
        primary_rd VARCHAR,
        secondary_rd VARCHAR,
        city VARCHAR,
        batch_id INTEGER NOT NULL
      );
    `,
  },
  {
    version: 8,
    name: 'collision locations and roads, road network, safety actions',
    sql: `
      ALTER TABLE collisions ADD COLUMN intersection BOOLEAN;
      ALTER TABLE collisions ADD COLUMN distance_ft DOUBLE;
      ALTER TABLE collisions ADD COLUMN state_highway BOOLEAN;
      ALTER TABLE collisions ADD COLUMN jurisdiction VARCHAR;
      -- why a crash that had coordinates is not mapped (e.g. 'outside_area'); its raw row keeps them
      ALTER TABLE collisions ADD COLUMN location_note VARCHAR;
      CREATE TABLE road_segments (
        segment_id VARCHAR NOT NULL,
        source VARCHAR NOT NULL,
        name VARCHAR,
        road_class VARCHAR,
        -- [[lon, lat], ...] in WGS84
        coordinates JSON NOT NULL,
        length_m DOUBLE NOT NULL,
        batch_id INTEGER NOT NULL
      );
      CREATE TABLE street_actions (
        action_id INTEGER PRIMARY KEY,
        kind VARCHAR NOT NULL,
        title VARCHAR NOT NULL,
        description VARCHAR,
        lat DOUBLE NOT NULL,
        lon DOUBLE NOT NULL,
        radius_m DOUBLE NOT NULL,
        road VARCHAR,
        started DATE NOT NULL,
        finished DATE,
        created_by VARCHAR,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 9,
    name: 'routable roads, stations with apparatus, map layers, planning settings',
    sql: `
      ALTER TABLE road_segments ADD COLUMN highway VARCHAR;
      -- 'forward', 'backward' or 'both'
      ALTER TABLE road_segments ADD COLUMN direction VARCHAR;
      ALTER TABLE road_segments ADD COLUMN maxspeed_kmh DOUBLE;
      ALTER TABLE road_segments ADD COLUMN oneway_unknown BOOLEAN;
      CREATE TABLE stations (
        station_id VARCHAR PRIMARY KEY,
        name VARCHAR,
        lat DOUBLE NOT NULL,
        lon DOUBLE NOT NULL,
        -- [{ "unit": "E01", "type": "ENGINE", "staffing": 4 }, ...] when given in the file; else taken from CAD
        apparatus JSON,
        batch_id INTEGER NOT NULL
      );
      CREATE TABLE map_layers (
        layer VARCHAR NOT NULL,
        feature_id VARCHAR NOT NULL,
        name VARCHAR,
        geometry JSON NOT NULL,
        batch_id INTEGER NOT NULL
      );
      CREATE TABLE plan_settings (
        key VARCHAR PRIMARY KEY,
        value JSON NOT NULL,
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
      );
    `,
  },
  {
    version: 10,
    name: 'a value per map polygon (population)',
    sql: `ALTER TABLE map_layers ADD COLUMN value DOUBLE;`,
  },
  {
    version: 11,
    // Bulk loads spend most of their time choosing and applying string compression. Raw rows are
    // long, unique JSON texts read back rarely (re-import diffs, audits): zstd stores them in about
    // half the space of the default and writes them faster. Row and incident ids are unique, short
    // and join keys: kept uncompressed, they write several times faster and scan fastest. A database
    // made before storage version 1.2 cannot hold zstd and keeps the raw rows uncompressed.
    name: 'bulk tables: raw rows in zstd, ids uncompressed',
    sql: `
      CREATE TABLE source_rows_v11 (
        source VARCHAR NOT NULL,
        source_row_id VARCHAR USING COMPRESSION uncompressed NOT NULL,
        batch_id INTEGER NOT NULL,
        line INTEGER NOT NULL,
        raw VARCHAR USING COMPRESSION zstd NOT NULL
      );
      INSERT INTO source_rows_v11 SELECT * FROM source_rows;
      DROP TABLE source_rows;
      ALTER TABLE source_rows_v11 RENAME TO source_rows;
      CREATE TABLE incidents_v11 (
        incident_id VARCHAR USING COMPRESSION uncompressed NOT NULL,
        source VARCHAR NOT NULL,
        call_received TIMESTAMPTZ,
        call_created TIMESTAMPTZ,
        incident_type VARCHAR,
        category VARCHAR NOT NULL,
        priority VARCHAR,
        emergency BOOLEAN,
        lat DOUBLE,
        lon DOUBLE,
        address VARCHAR,
        station_area VARCHAR,
        battalion VARCHAR,
        zone VARCHAR,
        risk_class VARCHAR,
        neighborhood VARCHAR,
        closed_at TIMESTAMPTZ,
        batch_id INTEGER NOT NULL
      );
      INSERT INTO incidents_v11 SELECT * FROM incidents;
      DROP TABLE incidents;
      ALTER TABLE incidents_v11 RENAME TO incidents;
      CREATE TABLE unit_responses_v11 (
        response_id VARCHAR USING COMPRESSION uncompressed NOT NULL,
        incident_id VARCHAR USING COMPRESSION uncompressed NOT NULL,
        source VARCHAR NOT NULL,
        source_row_id VARCHAR USING COMPRESSION uncompressed,
        unit_id VARCHAR NOT NULL,
        unit_type VARCHAR NOT NULL,
        unit_type_source VARCHAR,
        home_station VARCHAR,
        own_agency BOOLEAN NOT NULL,
        dispatch_order INTEGER,
        dispatched TIMESTAMPTZ,
        enroute TIMESTAMPTZ,
        staging TIMESTAMPTZ,
        on_scene TIMESTAMPTZ,
        transport_started TIMESTAMPTZ,
        at_hospital TIMESTAMPTZ,
        cleared TIMESTAMPTZ,
        in_quarters TIMESTAMPTZ,
        cancelled BOOLEAN,
        staffing INTEGER,
        batch_id INTEGER NOT NULL
      );
      INSERT INTO unit_responses_v11 SELECT * FROM unit_responses;
      DROP TABLE unit_responses;
      ALTER TABLE unit_responses_v11 RENAME TO unit_responses;
    `,
  },
  {
    version: 12,
    // The demo replays a CAD file as a live feed (batches with source 'replay'): it feeds the live
    // board, never an analysis. Analyses read these views, so the rule is written once. A later
    // migration that rebuilds incidents or unit_responses must drop and recreate them.
    name: 'analytic views: the data analyses read, the demo replay left out',
    sql: `
      CREATE VIEW analytic_incidents AS SELECT * FROM incidents WHERE source <> 'replay';
      CREATE VIEW analytic_unit_responses AS SELECT * FROM unit_responses WHERE source <> 'replay';
      CREATE VIEW analytic_batches AS SELECT * FROM import_batches WHERE source <> 'replay';
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export async function migrate(store: Store): Promise<void> {
  await store.run(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
  const done = new Set(
    (await store.all<{ version: number }>('SELECT version FROM schema_migrations')).map(
      (r) => r.version,
    ),
  );
  refuseNewerSchema(store.path, Math.max(0, ...done));
  for (const m of MIGRATIONS) {
    if (done.has(m.version)) continue;
    await store.transaction(async () => {
      await store.run(m.sql);
      await store.run('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
        m.version,
        m.name,
      ]);
    });
  }
}

/**
 * A file written by a newer CityOps has tables this version does not know: writing to it would
 * mix shapes and reading it fails deep inside a query, so it is not opened at all.
 */
function refuseNewerSchema(path: string, fileVersion: number): void {
  if (fileVersion <= SCHEMA_VERSION) return;
  throw new UserError(
    `The database ${path} has schema version ${fileVersion}, newer than this CityOps knows (schema ${SCHEMA_VERSION}). ` +
      'It was written by a newer release: upgrade CityOps to use it (this version leaves it untouched).',
  );
}
