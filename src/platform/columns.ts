import { z } from 'zod';
import { normaliseHeader } from './validation.ts';

/**
 * The mapping keys every domain's mapping shares (fire, collisions, budget): how a field names its
 * column(s), the text that means "empty" (`nullValues`), code maps (`codes`) and a row filter
 * (`filter`). A mapping's columns are resolved against the header once; each row's field is then
 * read here, so the three domains read a cell the same way.
 */

const name = z.string().min(1);
/** a header name, or a list of aliases (the first found is used) */
const aliases = z.union([name, z.array(name).min(1)]);
const tokens = z.array(z.string());

/**
 * A field's column: a name or aliases; `{ column, nullValues }` to add null tokens for this column;
 * `{ columns: [A, B] }` for a field written over several columns (a date and a time), joined with a
 * space. Header names match ignoring case, spaces and punctuation.
 */
export const columnRef = z.union([
  aliases,
  z.strictObject({ column: aliases, nullValues: tokens.optional() }),
  z.strictObject({ columns: z.array(aliases).min(2), nullValues: tokens.optional() }),
]);
export type ColumnRef = z.output<typeof columnRef>;

/** `nullValues: [..]`: cell texts (after trimming, matched exactly) that mean the value is missing. */
export const nullValuesKey = tokens.default([]);

/** `filter: { column, in: [..] }`: only rows whose column holds one of the values are imported. */
export const filterKey = z.strictObject({ column: aliases, in: z.array(z.string()).min(1) });
export type RowFilter = z.output<typeof filterKey>;

/** `codes: { FIELD: { "SOURCE VALUE": "canonical value" } }`: a field's source values rewritten before it is read. */
export const codesKey = z.record(z.string(), z.record(z.string(), z.string())).default({});
export type Codes = z.output<typeof codesKey>;

/** The keys a mapping of any domain may carry beside its columns. */
export interface SharedKeys {
  nullValues: string[];
  codes: Codes;
  filter?: RowFilter;
}

/** Each part of a field (one column, or several joined), as lists of aliases. */
export function columnParts(ref: ColumnRef): string[][] {
  const list = (a: string | string[]) => (Array.isArray(a) ? a : [a]);
  if (typeof ref === 'string' || Array.isArray(ref)) return [list(ref)];
  return 'column' in ref ? [list(ref.column)] : ref.columns.map(list);
}

/** The null tokens of one field: the mapping's and its column's own. */
function nullTokens(ref: ColumnRef, keys: SharedKeys): Set<string> {
  const own = typeof ref === 'object' && !Array.isArray(ref) ? (ref.nullValues ?? []) : [];
  return new Set([...keys.nullValues, ...own].map((t) => t.trim()));
}

/** One field as found in a file: the column of each part, its null tokens and its code map. */
export interface FieldColumns {
  parts: number[];
  nulls: ReadonlySet<string>;
  codes: ReadonlyMap<string, string>;
}

/** A field read from the columns `parts` (a header's positions, or a JSON record's parts in order). */
export function fieldColumns(
  field: string,
  ref: ColumnRef,
  keys: SharedKeys,
  parts: number[],
): FieldColumns {
  const codes = Object.entries(keys.codes[field] ?? {}).map(([k, v]) => [k.trim(), v] as const);
  return { parts, nulls: nullTokens(ref, keys), codes: new Map(codes) };
}

/** A field's header names looked for, in the messages that say none was found. */
export const lookedFor = (ref: ColumnRef): string[] => columnParts(ref).flat();

export interface HeaderResolution {
  fields: Map<string, FieldColumns>;
  missing: { field: string; looked: string[] }[];
  /** the filter's column, when the mapping has a filter */
  filterColumn: number | null;
  /** header names that no field (nor the filter) reads */
  unmapped: string[];
}

/** Resolves a mapping's columns (and filter) against a file's header. */
export function resolveHeader(
  columns: Record<string, ColumnRef | undefined>,
  keys: SharedKeys,
  header: string[],
): HeaderResolution {
  const byNorm = new Map<string, number>();
  header.forEach((h, i) => {
    if (!byNorm.has(normaliseHeader(h))) byNorm.set(normaliseHeader(h), i);
  });
  const find = (names: string[]) =>
    names.map((n) => byNorm.get(normaliseHeader(n))).find((i) => i !== undefined);
  const fields = new Map<string, FieldColumns>();
  const missing: HeaderResolution['missing'] = [];
  for (const [field, ref] of Object.entries(columns)) {
    if (!ref) continue;
    const parts = columnParts(ref).map(find);
    if (parts.some((i) => i === undefined)) missing.push({ field, looked: lookedFor(ref) });
    else fields.set(field, fieldColumns(field, ref, keys, parts as number[]));
  }
  let filterColumn: number | null = null;
  if (keys.filter) {
    const names = columnParts(keys.filter.column)[0]!;
    const i = find(names);
    if (i === undefined) missing.push({ field: 'filter', looked: names });
    else filterColumn = i;
  }
  const used = new Set([...[...fields.values()].flatMap((f) => f.parts), filterColumn]);
  return { fields, missing, filterColumn, unmapped: header.filter((_, i) => !used.has(i)) };
}

/** One cell as a field reads it: trimmed, null for '' or a null token. */
function cell(f: FieldColumns, text: string | null | undefined): string | null {
  const t = (text ?? '').trim();
  return t === '' || f.nulls.has(t) ? null : t;
}

/**
 * A field's text in a row of values: trimmed; null when empty or a null token (a field over several
 * columns is null when any part is: a date without its time is no stamp); then its code map.
 */
export function fieldText(
  f: FieldColumns,
  values: readonly (string | null | undefined)[],
): string | null {
  let text: string | null;
  if (f.parts.length === 1) text = cell(f, values[f.parts[0]!]);
  else {
    const parts = f.parts.map((i) => cell(f, values[i]));
    text = parts.includes(null) ? null : parts.join(' ');
  }
  return text === null ? null : (f.codes.get(text) ?? text);
}

/** Whether a row passes the mapping's filter (every row does without one). */
export function rowFilter(
  keys: SharedKeys,
  filterColumn: number | null,
): (values: readonly (string | null | undefined)[]) => boolean {
  if (!keys.filter || filterColumn === null) return () => true;
  const allowed = new Set(keys.filter.in.map((v) => v.trim()));
  return (values) => allowed.has((values[filterColumn] ?? '').trim());
}

/** The warning kind that counts the rows a filter left out (counted, neither quarantined nor stored). */
export const FILTERED_OUT = 'filtered_out';
