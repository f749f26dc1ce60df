import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { UserError } from '../../platform/errors.ts';

/** Debian's Chromium (or CITYOPS_CHROMIUM); playwright's own browser downloads are not used. */
export function chromiumPath(): string {
  const candidates = [
    process.env.CITYOPS_CHROMIUM,
    '/usr/bin/chromium',
    '/usr/bin/chromium-browser',
  ].filter(Boolean) as string[];
  for (const c of candidates) if (existsSync(c)) return c;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    throw new UserError(
      'Chromium is needed for PDF reports: install it (apt-get install chromium) or set CITYOPS_CHROMIUM.',
    );
  }
}

/** Flags for a headless Chromium on a closed network (no background requests, no sandbox as root). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}
