/** Headless Chromium (Debian's `chromium`) for the report's browser test: load a page, return its DOM. */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The browser to use: $CHROMIUM, else `chromium` on the PATH; null when it does not run. */
export function findChromium(): string | null {
  const bin = process.env.CHROMIUM ?? 'chromium';
  try {
    execFileSync(bin, ['--version'], { stdio: 'ignore', timeout: 20_000 });
    return bin;
  } catch {
    return null;
  }
}

export interface LoadedPage {
  /** document.documentElement.outerHTML once the page's timers have run. */
  dom: string;
  /** The console messages the page produced (Chromium logs them all, at any level, as CONSOLE lines). */
  console: string[];
}

/**
 * Loads the file with the network shut off (every host name fails to resolve), lets its timers run, and
 * returns the DOM and the console messages.
 */
export function loadPage(chromium: string, file: string): Promise<LoadedPage> {
  const profile = mkdtempSync(join(tmpdir(), 'egru-chromium-'));
  const args = [
    '--headless',
    '--no-sandbox', // tests may run as root (containers); the page is our own local file
    '--disable-gpu',
    '--disable-dev-shm-usage', // containers often have a small /dev/shm
    '--no-first-run',
    `--user-data-dir=${profile}`,
    '--host-resolver-rules=MAP * ~NOTFOUND',
    '--enable-logging=stderr',
    '--v=0',
    '--virtual-time-budget=5000',
    '--dump-dom',
    pathToFileURL(file).href,
  ];
  return new Promise((res, rej) => {
    execFile(chromium, args, { timeout: 30_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      rmSync(profile, { recursive: true, force: true });
      if (err) return rej(new Error(`${chromium} failed: ${err.message}\n${stderr}`));
      const console = String(stderr)
        .split('\n')
        .filter((l) => /:CONSOLE[:(]/.test(l));
      res({ dom: String(stdout), console });
    });
  });
}
