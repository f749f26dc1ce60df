import { createHash } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../core/errors.ts';
import { inspectFile, MAX_RAW_KEPT, readCsv } from '../core/sources.ts';
import { normaliseHeader } from '../fire/mapping.ts';
import type { Store } from '../store/db.ts';
import { RawFile, StageFile, type BatchSummary } from '../store/staging.ts';

/**
 * Road collisions (streets.md): one crash per row with KABCO severity, people killed and injured,
 * mode flags, local date and time, and a location with its provenance. The `tims` profile reads TIMS
 * exports of SWITRS: geocoded POINT_X/POINT_Y first, the officer's LATITUDE/LONGITUDE otherwise
 * (a longitude stored without its minus sign is corrected), COLLISION_TIME `HHMM` with 2500 = unknown.
 * Same guarantees as the other imports: raw rows kept, quarantine by line and field, one transaction,
 * idempotent by case id.
 */
const SEVERITY: Record<string, string> = { '1': 'K', '2': 'A', '3': 'B', '4': 'C', '0': 'O' };

const COLUMNS = {
  case_id: 'CASE_ID', date: 'COLLISION_DATE', time: 'COLLISION_TIME', severity: 'COLLISION_SEVERITY', killed: 'NUMBER_KILLED',
  injured: 'NUMBER_INJURED', severe: 'COUNT_SEVERE_INJ', ped: 'PEDESTRIAN_ACCIDENT', bike: 'BICYCLE_ACCIDENT', mc: 'MOTORCYCLE_ACCIDENT',
  px: 'POINT_X', py: 'POINT_Y', lat: 'LATITUDE', lon: 'LONGITUDE', primary: 'PRIMARY_RD', secondary: 'SECONDARY_RD', city: 'CITY',
} as const;
const REQUIRED = ['case_id', 'date', 'severity'] as const;

const STAGE = ['case_id', 'line', 'seq', 'collision_date', 'collision_minute', 'severity', 'killed', 'injured', 'severe_injured',
  'pedestrian', 'bicycle', 'motorcycle', 'lat', 'lon', 'location_source', 'primary_rd', 'secondary_rd', 'city'];
const TYPES = { line: 'INTEGER', seq: 'INTEGER', collision_date: 'DATE', collision_minute: 'INTEGER', killed: 'INTEGER', injured: 'INTEGER',
  severe_injured: 'INTEGER', pedestrian: 'BOOLEAN', bicycle: 'BOOLEAN', motorcycle: 'BOOLEAN', lat: 'DOUBLE', lon: 'DOUBLE' };

export const COLLISION_PROFILES = ['tims'];

export async function importCollisionsFile(store: Store, file: string, opts: { profile?: string } = {}): Promise<BatchSummary> {
  const profile = opts.profile ?? 'tims';
  if (!COLLISION_PROFILES.includes(profile)) throw new UserError(`Unknown collision profile "${profile}". Known profiles: ${COLLISION_PROFILES.join(', ')}`);
  inspectFile(file);
  const dir = mkdtempSync(join(tmpdir(), 'cityops-collisions-'));
  try {
    const stage = new StageFile(join(dir, 'stage.csv'), STAGE, TYPES);
    const raw = new RawFile(join(dir, 'raw.tsv'));
    const quarantine = new StageFile(join(dir, 'quarantine.csv'), ['line', 'field', 'reason', 'raw'], { line: 'INTEGER' });
    const warnings: Record<string, number> = {};
    const warn = (k: string) => { warnings[k] = (warnings[k] ?? 0) + 1; };
    let rowsRead = 0, quarantined = 0;
    let index = new Map<string, number>();
    await readCsv(file, {
      onHeader(h) {
        const byNorm = new Map(h.map((x, i) => [normaliseHeader(x), i]));
        index = new Map(Object.entries(COLUMNS).flatMap(([k, name]) => { const i = byNorm.get(normaliseHeader(name)); return i === undefined ? [] : [[k, i] as [string, number]]; }));
        const missing = REQUIRED.filter((f) => !index.has(f)).map((f) => COLUMNS[f]);
        if (missing.length) throw new UserError(`${file}: no column ${missing.join(', ')} (a TIMS/SWITRS collision export is expected)`);
      },
      onRecord(v, line) {
        rowsRead++;
        const get = (f: keyof typeof COLUMNS) => { const i = index.get(f); const t = i === undefined ? '' : (v[i] ?? '').trim(); return t === '' || t === '-' ? null : t; };
        const rawText = JSON.stringify(v);
        const reject = (field: string, reason: string) => { quarantined++; quarantine.write([line, field, reason, rawText.slice(0, MAX_RAW_KEPT)]); };
        const caseId = get('case_id');
        if (caseId === null) return reject('CASE_ID', 'missing case id');
        const date = get('date');
        if (date === null || !/^\d{4}-\d{2}-\d{2}$/.test(date) || Number.isNaN(Date.parse(date))) return reject('COLLISION_DATE', `"${date ?? ''}" is not a date YYYY-MM-DD`);
        const sevText = get('severity');
        const severity = sevText === null ? undefined : SEVERITY[sevText];
        if (!severity) return reject('COLLISION_SEVERITY', `"${sevText ?? ''}" is not a severity (1 fatal … 4 complaint of pain, 0 property damage only)`);
        const t = get('time');
        let minute: number | null = null;
        if (t !== null && t !== '2500') {
          const n = Number(t);
          if (Number.isInteger(n) && n >= 0 && n < 2400 && n % 100 < 60) minute = Math.floor(n / 100) * 60 + (n % 100);
          else warn('bad_time');
        } else warn('unknown_time');
        const int = (f: keyof typeof COLUMNS) => { const x = get(f); return x === null ? 0 : Number.isInteger(Number(x)) ? Number(x) : 0; };
        let lat: number | null = null, lon: number | null = null, locSource: string | null = null;
        const px = Number(get('px')), py = Number(get('py'));
        if (get('px') !== null && get('py') !== null && Number.isFinite(px) && Number.isFinite(py)) { lat = py; lon = px; locSource = 'geocoded'; }
        else {
          const la = Number(get('lat')), lo = Number(get('lon'));
          if (get('lat') !== null && get('lon') !== null && Number.isFinite(la) && Number.isFinite(lo)) {
            lat = la; lon = lo > 0 && lo < 180 ? -lo : lo; locSource = 'officer'; // SWITRS stores west longitudes without the sign
            if (lo > 0) warn('longitude_sign_fixed');
          } else warn('no_location');
        }
        raw.write(stage.rows, rawText);
        stage.write([caseId, line, stage.rows, date, minute, severity, int('killed'), int('injured'), get('severe') === null ? null : int('severe'),
          get('ped') === 'Y', get('bike') === 'Y', get('mc') === 'Y', lat, lon, locSource, get('primary'), get('secondary'), get('city')]);
      },
      onError(e) { rowsRead++; quarantined++; quarantine.write([e.line, null, e.message, e.raw]); },
    });
    for (const f of [stage, raw, quarantine]) f.close();
    const sha = createHash('sha256');
    for await (const chunk of createReadStream(file)) sha.update(chunk as Buffer);
    const source = profile;
    return await store.transaction(async () => {
      const batchId = (await store.one<{ id: number }>('SELECT coalesce(max(batch_id), 0) + 1 AS id FROM import_batches'))!.id;
      await store.run(`INSERT INTO import_batches (batch_id, domain, file, file_sha256, profile, source, started_at) VALUES ($1, 'streets', $2, $3, $4, $5, now())`,
        [batchId, file, sha.digest('hex'), profile, source]);
      await store.run(`CREATE OR REPLACE TEMP TABLE crash_stage AS SELECT s.*, r.raw FROM ${stage.sql()} s JOIN ${raw.sql()} r USING (seq)
        QUALIFY row_number() OVER (PARTITION BY case_id ORDER BY line DESC) = 1`);
      await store.run(`CREATE OR REPLACE TEMP TABLE crash_changes AS SELECT s.case_id, r.source_row_id IS NULL AS is_new
        FROM crash_stage s LEFT JOIN source_rows r ON r.source = $1 AND r.source_row_id = s.case_id WHERE r.source_row_id IS NULL OR r.raw <> s.raw`, [source]);
      const k = (await store.one<{ inserted: number; updated: number; total: number }>(`SELECT (SELECT count(*) FROM crash_changes WHERE is_new) AS inserted,
        (SELECT count(*) FROM crash_changes WHERE NOT is_new) AS updated, (SELECT count(*) FROM crash_stage) AS total`))!;
      await store.run('DELETE FROM source_rows WHERE source = $1 AND source_row_id IN (SELECT case_id FROM crash_changes WHERE NOT is_new)', [source]);
      await store.run('DELETE FROM collisions WHERE source = $1 AND case_id IN (SELECT case_id FROM crash_changes WHERE NOT is_new)', [source]);
      await store.run('INSERT INTO source_rows SELECT $1, s.case_id, $2, s.line, s.raw FROM crash_stage s SEMI JOIN crash_changes USING (case_id)', [source, batchId]);
      await store.run(`INSERT INTO collisions SELECT s.case_id, $1, s.collision_date, s.collision_minute, s.severity, s.killed, s.injured, s.severe_injured,
          s.pedestrian, s.bicycle, s.motorcycle, s.lat, s.lon, s.location_source, s.primary_rd, s.secondary_rd, s.city, $2
        FROM crash_stage s SEMI JOIN crash_changes USING (case_id)`, [source, batchId]);
      await store.run(`INSERT INTO quarantine SELECT (SELECT coalesce(max(quarantine_id), 0) FROM quarantine) + row_number() OVER (ORDER BY line),
        $1, $2, line, field, reason, raw FROM ${quarantine.sql()}`, [batchId, file]);
      const unchanged = k.total - k.inserted - k.updated;
      await store.run(`UPDATE import_batches SET finished_at = now(), rows_read = $2, inserted = $3, updated = $4, unchanged = $5, quarantined = $6, warnings = $7
        WHERE batch_id = $1`, [batchId, rowsRead, k.inserted, k.updated, unchanged, quarantined, JSON.stringify(warnings)]);
      return { batchId, file, profile, rowsRead, inserted: k.inserted, updated: k.updated, unchanged, quarantined, warnings };
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
