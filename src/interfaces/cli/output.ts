import { SingleBar } from 'cli-progress';
import type { ImportStage } from '../../platform/ingest.ts';
import type { BatchSummary } from '../../platform/staging.ts';

/** Prints JSON to stdout, the format scripts and checks read. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

const useColour = () => process.stdout.isTTY && !process.env.NO_COLOR;
export const green = (s: string) => (useColour() ? `\x1b[32m${s}\x1b[0m` : s);
export const red = (s: string) => (useColour() ? `\x1b[31m${s}\x1b[0m` : s);
export const dim = (s: string) => (useColour() ? `\x1b[2m${s}\x1b[0m` : s);

/** The text without its colour escapes (what a terminal shows). */
const ESCAPE = String.fromCharCode(27);
const COLOUR = new RegExp(`${ESCAPE}\\[[0-9;]*m`, 'g');
const plain = (s: string) => s.replace(COLOUR, '');

/** A plain text table with right-aligned numbers. */
export function table(headers: string[], rows: (string | number | null)[][]): string {
  const text = rows.map((r) => r.map((c) => (c === null ? '–' : String(c))));
  const visible = (s: string) => plain(s).length;
  const widths = headers.map((h, k) =>
    Math.max(visible(h), ...text.map((r) => visible(r[k] ?? ''))),
  );
  const pad = (s: string, k: number, right: boolean) =>
    right ? ' '.repeat(widths[k]! - visible(s)) + s : s + ' '.repeat(widths[k]! - visible(s));
  const isNum = headers.map((_, k) => text.every((r) => /^[-–\d.,%sx]*$/.test(plain(r[k] ?? ''))));
  return [
    headers.map((h, k) => pad(h, k, isNum[k]!)).join('  '),
    widths.map((w) => '-'.repeat(w)).join('  '),
    ...text.map((r) => r.map((c, k) => pad(c, k, isNum[k]!)).join('  ')),
  ].join('\n');
}

/** CSV text of rows with a header, quoting where needed. */
export function csv(headers: string[], rows: unknown[][]): string {
  const q = (v: unknown) => {
    if (v === null || v === undefined) return '';
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [headers.map(q).join(','), ...rows.map((r) => r.map(q).join(','))].join('\n') + '\n';
}

/** A progress bar on stderr for long work; silent when stderr is not a terminal unless forced. */
/**
 * A progress bar on stderr (a terminal, or CITYOPS_PROGRESS set): of megabytes for reading, of
 * steps (shown as a percentage) for work counted in steps.
 */
export function progressBar(
  label: string,
  total: number,
  unit: 'MB' | 'steps' = 'MB',
): { update(done: number): void; stop(): void } {
  if (!process.stderr.isTTY && !process.env.CITYOPS_PROGRESS) return { update() {}, stop() {} };
  const bar = new SingleBar({
    format:
      unit === 'MB'
        ? `${label} [{bar}] {percentage}% | {value}/{total} MB | {eta_formatted} left`
        : `${label} [{bar}] {percentage}%`,
    stream: process.stderr,
    noTTYOutput: true,
    notTTYSchedule: 2000,
    hideCursor: true,
  });
  const scale = unit === 'MB' ? (b: number) => Math.round(b / 1e5) / 10 : (x: number) => x;
  bar.start(scale(total), 0);
  return { update: (done) => bar.update(scale(done)), stop: () => bar.stop() };
}

export const fmtSeconds = (s: number | null) =>
  s === null ? null : Number.isInteger(s) ? s : Number(s.toFixed(1));
export const fmtShare = (x: number | null) => (x === null ? null : `${(x * 100).toFixed(1)}%`);

/**
 * The one summary every import prints: the counts the pipeline keeps for every domain, the
 * domain's own lines (`details`, already labelled), warnings and notes.
 */
export function printImportSummary(s: BatchSummary, details: [string, string][] = []): void {
  const warnings = Object.entries(s.warnings);
  const line = (label: string, value: string | number) => `  ${label.padEnd(12)} ${value}`;
  process.stdout.write(
    [
      `Imported ${s.file} (batch ${s.batchId}, profile ${s.profile})`,
      line('read', s.rowsRead),
      line('inserted', s.inserted),
      line('updated', s.updated),
      line('unchanged', s.unchanged),
      ...(s.removed ? [line('removed', s.removed)] : []),
      line(
        'quarantined',
        `${s.quarantined}${s.quarantined ? `   (see: cityops quarantine list --batch ${s.batchId})` : ''}`,
      ),
      line('warnings', warnings.length ? warnings.map(([k, v]) => `${k} ${v}`).join(', ') : 'none'),
      ...details.map(([label, value]) => line(label, value)),
      ...(s.notes ?? []).map((n) => line('note', n)),
      '',
    ].join('\n'),
  );
}

/**
 * The progress every import shows on files over 2 MB: a bar for reading the file (megabytes),
 * then one for writing it (steps).
 */
export function importProgress(): {
  onProgress: (done: number, total: number, stage: ImportStage) => void;
  stop: () => void;
} {
  let bar: ReturnType<typeof progressBar> | null = null;
  let stage: ImportStage | null = null;
  let large = false;
  return {
    onProgress(done, total, next) {
      if (next !== stage) {
        bar?.stop();
        if (next === 'reading') large = total > 2e6;
        stage = next;
        bar = !large
          ? null
          : next === 'reading'
            ? progressBar('Reading', total)
            : progressBar('Writing', total, 'steps');
      }
      bar?.update(done);
    },
    stop: () => bar?.stop(),
  };
}
