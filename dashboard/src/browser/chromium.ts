import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';

/**
 * Debian's Chromium for the browser suites, through playwright-core (nothing is ever downloaded);
 * `COOPFL_CHROMIUM` points elsewhere, and an absent path skips the suites with a notice.
 */
export const CHROMIUM = process.env.COOPFL_CHROMIUM ?? '/usr/bin/chromium';
/** Where the suites put their screenshots. */
export const SHOTS = join(import.meta.dirname, '../../../test-results/dashboard');
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Whether Chromium is installed; warns (once per suite) that `suite` is skipped when not. */
export function chromiumAvailable(suite: string): boolean {
  const ok = existsSync(CHROMIUM);
  if (!ok) console.warn(`${CHROMIUM} is absent: the ${suite} is SKIPPED (install chromium).`);
  return ok;
}

/** Launches headless Chromium and makes sure the screenshot folder exists. */
export function launchChromium(): Promise<Browser> {
  mkdirSync(SHOTS, { recursive: true });
  return chromium.launch({ executablePath: CHROMIUM, args: ARGS, timeout: 30_000 });
}
