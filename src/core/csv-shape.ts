import { closeSync, openSync, readSync } from 'node:fs';

/**
 * A byte-level pass over a delimited file that says whether it is "plain": one record per line,
 * no blank lines, every record with the header's field count, quotes balanced. Such a file can be
 * read by the database directly with exact line numbers (record k is on line k + 1).
 */
export interface CsvShape {
  plain: boolean;
  /** why the file is not plain (for logs and tests) */
  reason?: string;
  records: number;
  fields: number;
}

export function csvShape(path: string, delimiter = ','): CsvShape {
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(1 << 22);
  const QUOTE = 34, NL = 10, CR = 13, DELIM = delimiter.charCodeAt(0);
  let inQuotes = false, fields = 1, headerFields = -1, records = 0, lineHasContent = false, pos = 0, line = 1;
  const fail = (reason: string): CsvShape => ({ plain: false, reason: `line ${line}: ${reason}`, records, fields: headerFields });
  try {
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, pos);
      if (n === 0) break;
      pos += n;
      for (let i = 0; i < n; i++) {
        const c = buf[i]!;
        if (c === QUOTE) { inQuotes = !inQuotes; lineHasContent = true; continue; }
        if (inQuotes) {
          if (c === NL) return fail('a quoted value spans lines');
          continue;
        }
        if (c === DELIM) { fields++; lineHasContent = true; continue; }
        if (c === NL) {
          if (!lineHasContent) return fail('a blank line');
          if (headerFields < 0) headerFields = fields;
          else if (fields !== headerFields) return fail(`${fields} fields where the header has ${headerFields}`);
          else records++;
          fields = 1; lineHasContent = false; line++;
          continue;
        }
        if (c !== CR) lineHasContent = true;
      }
    }
  } finally {
    closeSync(fd);
  }
  if (inQuotes) return fail('an unbalanced quote');
  if (lineHasContent) {
    if (headerFields >= 0 && fields !== headerFields) return fail(`${fields} fields where the header has ${headerFields}`);
    records++;
  }
  return { plain: headerFields > 0, records, fields: headerFields, reason: headerFields > 0 ? undefined : 'no header' };
}
