import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';

/** One streaming read of a file: its checksum and the line facts the fast CSV path relies on. */
export interface FileScan {
  sha256: string;
  /** lines, counting a last line without a newline */
  lines: number;
  /** a carriage return not followed by a newline: some readers end a record there, some do not */
  bareCarriageReturn: boolean;
}

export async function scanFile(path: string): Promise<FileScan> {
  const hash = createHash('sha256');
  let newlines = 0,
    bareCr = false,
    last = -1,
    pendingCr = false;
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 22 })) {
    const b = chunk as Buffer;
    hash.update(b);
    if (pendingCr && b[0] !== 10) bareCr = true;
    // indexOf is a native byte search: far faster than a loop over every byte in JS
    for (let i = b.indexOf(10); i !== -1; i = b.indexOf(10, i + 1)) newlines++;
    if (!bareCr) {
      for (let i = b.indexOf(13); i !== -1; i = b.indexOf(13, i + 1)) {
        if (i === b.length - 1) pendingCr = true;
        else if (b[i + 1] !== 10) {
          bareCr = true;
          break;
        }
      }
    }
    if (b.length) {
      last = b[b.length - 1]!;
      if (last !== 13) pendingCr = false;
    }
  }
  if (pendingCr) bareCr = true;
  return {
    sha256: hash.digest('hex'),
    lines: newlines + (last !== -1 && last !== 10 ? 1 : 0),
    bareCarriageReturn: bareCr,
  };
}
