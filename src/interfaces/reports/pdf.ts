import { launchChromium } from './browser.ts';

/**
 * Prints the app's monthly report page to PDF (A4 landscape) with headless Chromium: the report
 * shows the same charts and figures as the dashboard because it is the same page code.
 */
export async function renderFireReport(opts: {
  baseUrl: string;
  sessionCookie: { name: string; value: string };
  month: string;
}): Promise<Buffer> {
  const browser = await launchChromium();
  try {
    const context = await browser.newContext({ viewport: { width: 1123, height: 794 } });
    await context.addCookies([
      { ...opts.sessionCookie, url: opts.baseUrl, httpOnly: true, sameSite: 'Strict' },
    ]);
    const page = await context.newPage();
    await page.goto(`${opts.baseUrl}/#/report?month=${encodeURIComponent(opts.month)}`);
    await page.waitForFunction(
      () => (window as unknown as { reportReady?: boolean }).reportReady === true,
      undefined,
      { timeout: 60000 },
    );
    return await page.pdf({
      format: 'A4',
      landscape: true,
      printBackground: true,
      margin: { top: '8mm', bottom: '8mm', left: '8mm', right: '8mm' },
    });
  } finally {
    await browser.close();
  }
}
