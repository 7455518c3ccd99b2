/**
 * Debian's chromium driven by playwright-core (Playwright's own browser download does not work
 * here), headless, in a fresh profile directory removed on close. A missing browser fails the
 * test with the command that installs it (npm pretest does it when run as root); it is never
 * a silent skip.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

export interface Browser {
  context: BrowserContext;
  /** A new tab that records uncaught errors and console errors of the page in `errors`. */
  newPage(): Promise<{ page: Page; errors: string[] }>;
  close(): Promise<void>;
}

export async function openChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: the web view test drives Debian's chromium. Install it with: apt-get install -y chromium (as root; npm pretest does this when run as root)`);
  }
  const profile = await mkdtemp(join(tmpdir(), 'recover-chromium-'));
  try {
    // A persistent context is how Playwright takes a profile directory (--user-data-dir).
    const context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM, headless: true, args: ARGS, timeout: 60_000 });
    return {
      context,
      async newPage() {
        const page = await context.newPage();
        const errors: string[] = [];
        page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
        page.on('console', (message) => {
          if (message.type() === 'error') errors.push(`console error: ${message.text()} (${message.location().url})`);
        });
        return { page, errors };
      },
      async close() {
        try {
          await context.close();
        } finally {
          await rm(profile, { recursive: true, force: true });
        }
      },
    };
  } catch (error) {
    await rm(profile, { recursive: true, force: true });
    throw error;
  }
}
