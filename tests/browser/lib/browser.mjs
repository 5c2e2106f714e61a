// Shared helpers for Moderato's real-browser tests: headless Debian Chromium
// driven by playwright-core (Playwright's own browser download cannot work on
// this network), accessibility checks with axe-core.
//
//   import { launch, newPage, recordRequests, axeCheck, screenshot } from './lib/browser.mjs';
//   const browser = await launch();                          // third-party cookies allowed
//   const strict = await launch({ thirdPartyCookies: 'block' });
//   const page = await newPage(browser, { viewport: 'phone' });
//
// Environment:
//   MODERATO_CHROMIUM        browser executable (default /usr/bin/chromium)
//   MODERATO_BROWSER_RESULTS output folder (default tests/browser/results)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Where screenshots (and anything else a test writes) go; git-ignored. */
export const RESULTS_DIR = path.resolve(process.env.MODERATO_BROWSER_RESULTS || path.join(here, '..', 'results'));
export const SCREENSHOT_DIR = path.join(RESULTS_DIR, 'screenshots');

export const CHROMIUM_PATH = process.env.MODERATO_CHROMIUM || '/usr/bin/chromium';

// Playwright adds most of these itself; they are repeated so the launch does
// not depend on its defaults. The background-networking ones matter: without
// them Chromium phones home at start-up and, on a closed network, those
// connections are refused. Do not add a --disable-features=... here: Chromium
// keeps only the last one, which would drop the list Playwright passes.
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Context options per preset; `phone` is a touch device that honours <meta name=viewport>. */
export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
  phone: { viewport: { width: 360, height: 740 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true },
};

// Chromium's "Cookies" setting (chrome://settings/cookies), prefs key
// profile.cookie_controls_mode: 0 = allow third-party cookies,
// 1 = block third-party cookies. Left unset, this Chromium (156, Debian)
// already blocks them, so the helper always writes it.
const COOKIE_CONTROLS_MODE = { allow: 0, block: 1 };

/**
 * Launches headless Chromium with a fresh user-data-dir (removed on close).
 *
 * options.thirdPartyCookies: 'allow' (default, like Chrome's default for
 *   ordinary windows) or 'block' (like Chrome's "Block third-party cookies",
 *   and in effect like Safari and Firefox's tracking protection). Applies to
 *   every context of this browser: the setting is written into the new
 *   profile's Preferences before start, and the contexts that newPage()
 *   creates (incognito-like) read it from there.
 * options.args: extra Chromium switches.
 * Any other option goes to Playwright's launchPersistentContext.
 *
 * Returns a Playwright Browser; call browser.close() when done.
 */
export async function launch(options = {}) {
  const { thirdPartyCookies = 'allow', args = [], ...rest } = options;
  if (!(thirdPartyCookies in COOKIE_CONTROLS_MODE)) {
    throw new Error(`thirdPartyCookies must be 'allow' or 'block', not ${JSON.stringify(thirdPartyCookies)}`);
  }
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'moderato-chromium-'));
  fs.mkdirSync(path.join(userDataDir, 'Default'));
  fs.writeFileSync(
    path.join(userDataDir, 'Default', 'Preferences'),
    JSON.stringify({ profile: { cookie_controls_mode: COOKIE_CONTROLS_MODE[thirdPartyCookies] } }),
  );
  let context;
  try {
    // launchPersistentContext rather than launch: launch() makes its own
    // profile folder, with no way to seed preferences into it.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: [...CHROMIUM_ARGS, ...args],
      timeout: 30_000,
      ...rest,
    });
  } catch (error) {
    fs.rmSync(userDataDir, { recursive: true, force: true });
    if (!fs.existsSync(CHROMIUM_PATH)) {
      error.message = `${CHROMIUM_PATH} not found: run .ci/browser-setup.sh (or set MODERATO_CHROMIUM)\n${error.message}`;
    }
    throw error;
  }
  const browser = context.browser();
  // 'disconnected' comes before Chromium has finished writing its profile,
  // so the folder goes once close() has waited for the process to exit.
  const close = browser.close.bind(browser);
  browser.close = async (closeOptions) => {
    try {
      await close(closeOptions);
    } finally {
      fs.rmSync(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
    }
  };
  browser.thirdPartyCookies = thirdPartyCookies;
  return browser;
}

/**
 * Opens a page in a new, isolated context (own cookies and storage).
 *
 * options.viewport: 'desktop' (1280x800, default), 'phone' (360x740, mobile,
 *   touch) or a { width, height } object.
 * Any other option goes to browser.newContext (locale, colorScheme,
 * reducedMotion, baseURL, ...). Close with page.context().close().
 */
export async function newPage(browser, options = {}) {
  const { viewport = 'desktop', ...rest } = options;
  const preset = typeof viewport === 'string' ? VIEWPORTS[viewport] : { viewport };
  if (!preset) throw new Error(`unknown viewport preset ${JSON.stringify(viewport)}`);
  const context = await browser.newContext({ locale: 'en-GB', ...preset, ...rest });
  context.setDefaultTimeout(10_000);
  return context.newPage();
}

/**
 * Records every request a page (or a whole context) makes, including
 * frames and WebSocket handshakes, from now on.
 *
 *   const requests = recordRequests(page);
 *   ...
 *   assert.deepEqual(requests.elsewhere(server.origin), []);
 */
export function recordRequests(pageOrContext) {
  const urls = [];
  pageOrContext.on('request', (request) => urls.push(request.url()));
  pageOrContext.on('websocket', (ws) => urls.push(ws.url()));
  return {
    urls,
    /** Distinct origins (scheme://host:port) requested, ignoring data:, blob: and about: URLs. */
    origins() {
      return [...new Set(networkUrls(urls).map((u) => new URL(u).origin))];
    },
    /** URLs that went to any origin not listed (strings such as 'http://127.0.0.1:4321'). */
    elsewhere(...allowedOrigins) {
      const allowed = new Set(allowedOrigins.flat().map((o) => new URL(o).origin));
      return networkUrls(urls).filter((u) => !allowed.has(new URL(u).origin));
    },
  };
}

function networkUrls(urls) {
  return urls.filter((u) => /^(https?|wss?):/.test(u));
}

/**
 * Runs axe-core on the page (all its frames) and returns the violations of
 * impact serious or critical, one readable string each; [] when clean, so
 * `assert.deepEqual(await axeCheck(page), [])` prints what is wrong.
 *
 * options.include / options.exclude: CSS selectors; options.disableRules: rule ids;
 * options.tags: only rules with these tags (e.g. ['wcag2a','wcag2aa','wcag21aa']).
 */
export async function axeCheck(page, options = {}) {
  let builder = new AxeBuilder({ page });
  if (options.include) builder = builder.include(options.include);
  if (options.exclude) builder = builder.exclude(options.exclude);
  if (options.disableRules) builder = builder.disableRules(options.disableRules);
  if (options.tags) builder = builder.withTags(options.tags);
  const results = await builder.analyze();
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(formatViolation);
}

function formatViolation(v) {
  const nodes = v.nodes.map((n) => {
    const [head = '', ...reasons] = (n.failureSummary || '').split('\n').map((l) => l.trim()).filter(Boolean);
    const summary = `${head} ${reasons.join('; ')}`.trim();
    return `  at ${n.target.join(' ')}: ${n.html.slice(0, 160)}\n    ${summary}`;
  });
  return `[${v.impact}] ${v.id}: ${v.help} (${v.helpUrl})\n${nodes.join('\n')}`;
}

/**
 * Writes a full-page PNG to results/screenshots/NAME.png and returns its path.
 */
export async function screenshot(page, name) {
  if (!/^[\w.-]+$/.test(name)) throw new Error(`screenshot name ${JSON.stringify(name)}: use letters, digits, . _ -`);
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: true, animations: 'disabled' });
  return file;
}
