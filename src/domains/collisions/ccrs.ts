import { UserError } from '../../platform/errors.ts';
import { inspectFile, readCsv } from '../../platform/sources.ts';
import { normaliseHeader } from '../../platform/validation.ts';
import type { Severity } from './profiles.ts';

/**
 * CCRS crashes have no severity column: a crash is as severe as its worst injured person
 * (docs/collisions.md §10.3). `*Inactive` codes are the legacy categories; since 2016 "seriously injured" means
 * SuspectSerious plus SevereInactive. Witness-only rows are not victims.
 */
const EXTENT: Record<string, Severity> = {
  fatal: 'K',
  suspectserious: 'A',
  severeinactive: 'A',
  suspectminor: 'B',
  othervisibleinactive: 'B',
  possibleinjury: 'C',
  complaintofpaininactive: 'C',
};
const RANK: Record<Severity, number> = { K: 5, A: 4, B: 3, C: 2, I: 1.5, O: 1 };

export interface InjuredSummary {
  severity: Severity;
  killed: number;
  serious: number;
  pedestrian: boolean;
  bicyclist: boolean;
}

export async function readInjuredPeople(file: string): Promise<Map<string, InjuredSummary>> {
  inspectFile(file);
  const out = new Map<string, InjuredSummary>();
  let idx: Record<'id' | 'extent' | 'witness' | 'type', number> = {
    id: -1,
    extent: -1,
    witness: -1,
    type: -1,
  };
  const problems: string[] = [];
  await readCsv(file, {
    onHeader(h) {
      const at = (name: string) => h.findIndex((x) => normaliseHeader(x) === normaliseHeader(name));
      idx = {
        id: at('CollisionId'),
        extent: at('ExtentOfInjuryCode'),
        witness: at('IsWitnessOnly'),
        type: at('InjuredPersonType'),
      };
      if (idx.id < 0 || idx.extent < 0)
        throw new UserError(
          `${file}: no column ${idx.id < 0 ? 'CollisionId' : 'ExtentOfInjuryCode'} (a CCRS InjuredWitnessPassengers table is expected)`,
        );
    },
    onRecord(v, line) {
      const id = v[idx.id]!.trim();
      if (idx.witness >= 0 && /^(y|true|1)$/i.test(v[idx.witness]!.trim())) return;
      const code = normaliseHeader(v[idx.extent] ?? '');
      if (!code || code === 'noinjury' || code === 'none') return;
      const sev = EXTENT[code];
      if (!sev) {
        if (problems.length < 5)
          problems.push(`line ${line}: ExtentOfInjuryCode "${v[idx.extent]}"`);
        return;
      }
      const type = idx.type >= 0 ? (v[idx.type] ?? '').toUpperCase() : '';
      const s = out.get(id) ?? {
        severity: 'O',
        killed: 0,
        serious: 0,
        pedestrian: false,
        bicyclist: false,
      };
      if (RANK[sev] > RANK[s.severity]) s.severity = sev;
      if (sev === 'K') s.killed++;
      if (sev === 'A') s.serious++;
      if (type.includes('PEDESTRIAN')) s.pedestrian = true;
      if (type.includes('BICYCL')) s.bicyclist = true;
      out.set(id, s);
    },
    onError(e) {
      if (problems.length < 5) problems.push(`line ${e.line}: ${e.message}`);
    },
  });
  if (problems.length)
    throw new UserError(`${file} has rows that cannot be read:\n  ${problems.join('\n  ')}`);
  return out;
}
