import { statfsSync } from 'node:fs';
import { dirname } from 'node:path';

/** Free space below which the server reports itself unhealthy: imports and the live log would fail. */
export function minimumFreeBytes(): number {
  const mb = Number(process.env.CITYOPS_MIN_FREE_MB ?? 200);
  return (Number.isFinite(mb) && mb >= 0 ? mb : 200) * 1024 * 1024;
}

/** Problems that will make writes fail, in plain words; empty when all is well. */
export function healthProblems(dbPath: string): string[] {
  const problems: string[] = [];
  try {
    const fs = statfsSync(dirname(dbPath));
    const free = fs.bavail * fs.bsize;
    const needed = minimumFreeBytes();
    if (free < needed) {
      problems.push(
        `The disk holding the database has ${Math.floor(free / 1048576)} MB free; writes need at least ${Math.floor(needed / 1048576)} MB (CITYOPS_MIN_FREE_MB).`,
      );
    }
  } catch {
    problems.push('The folder holding the database cannot be read.');
  }
  return problems;
}
