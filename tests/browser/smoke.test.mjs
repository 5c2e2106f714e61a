// Proves the browser-test tooling works: a tiny server on 127.0.0.1, a form
// driven by keyboard in headless Chromium, an axe-core check, screenshots at
// desktop and phone widths, and the third-party-cookie setting of launch().
// Later browser tests follow this pattern (with the real moderato binary as
// the server).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { launch, newPage, recordRequests, axeCheck, screenshot } from './lib/browser.mjs';

const escapeHtml = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const layout = (title, body) => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 16px/1.5 sans-serif; margin: 0; color: #1a1a1a; background: #fff; }
  main { max-width: 40rem; margin: 0 auto; padding: 1.5rem; }
  label { display: block; font-weight: bold; margin-bottom: .25rem; }
  input { font: inherit; padding: .5rem; width: 100%; box-sizing: border-box; border: 1px solid #555; border-radius: 4px; }
  button { font: inherit; margin-top: .75rem; padding: .5rem 1rem; background: #0b5394; color: #fff; border: 0; border-radius: 4px; }
  :focus-visible { outline: 3px solid #e69138; outline-offset: 2px; }
</style>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;

function formPage() {
  return layout('Leave a comment', `<h1>Leave a comment</h1>
<form method="post" action="/comment">
  <label for="comment">Your comment</label>
  <input id="comment" name="comment" required autocomplete="off">
  <button type="submit">Post comment</button>
</form>`);
}

function resultPage(comment) {
  return layout('Comment posted', `<h1>Comment posted</h1>
<p role="status">Thanks! You wrote: <q>${escapeHtml(comment)}</q></p>
<p><a href="/">Write another</a></p>`);
}

/** Starts the form server on 127.0.0.1, port 0. */
async function startFormServer() {
  const server = http.createServer(async (req, res) => {
    if (req.method === 'GET' && req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(formPage());
    }
    if (req.method === 'POST' && req.url === '/comment') {
      let body = '';
      for await (const chunk of req) body += chunk;
      const comment = new URLSearchParams(body).get('comment') ?? '';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      return res.end(resultPage(comment));
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, origin: `http://127.0.0.1:${server.address().port}` };
}

/**
 * Serves one port reached under two sites, http://127.0.0.1:PORT and
 * http://localhost:PORT: /set sets a SameSite=None cookie, /echo returns the
 * cookies the request carried, both with credentialed CORS for the caller.
 */
async function startCookieServer() {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://placeholder');
    const cors = req.headers.origin
      ? { 'access-control-allow-origin': req.headers.origin, 'access-control-allow-credentials': 'true', vary: 'origin' }
      : {};
    if (url.pathname === '/set') {
      const value = url.searchParams.get('value') ?? 'x';
      // Secure is allowed on http://localhost, which Chromium treats as a
      // secure context; SameSite=None is what a cross-site cookie needs.
      res.writeHead(200, { ...cors, 'set-cookie': `probe=${value}; Path=/; SameSite=None; Secure`, 'content-type': 'text/plain' });
      return res.end('set');
    }
    if (url.pathname === '/echo') {
      res.writeHead(200, { ...cors, 'content-type': 'application/json', 'cache-control': 'no-store' });
      return res.end(JSON.stringify({ cookie: req.headers.cookie ?? '' }));
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(layout('Cookie probe', '<h1>Cookie probe</h1>'));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = server.address().port;
  return { server, first: `http://127.0.0.1:${port}`, third: `http://localhost:${port}` };
}

/** From a page on `first`, sets a cookie on `third` by credentialed fetch, then asks `third` what came back. */
async function thirdPartyRoundTrip(browser, { first, third }, value) {
  const page = await newPage(browser);
  try {
    await page.goto(`${first}/`);
    return await page.evaluate(
      async ({ third, value }) => {
        await fetch(`${third}/set?value=${value}`, { credentials: 'include' });
        const echo = await fetch(`${third}/echo`, { credentials: 'include' });
        return (await echo.json()).cookie;
      },
      { third, value },
    );
  } finally {
    await page.context().close();
  }
}

/** The same cookie set and read by a page on `third` itself, as a first party. */
async function firstPartyRoundTrip(browser, { third }, value) {
  const page = await newPage(browser);
  try {
    await page.goto(`${third}/`);
    return await page.evaluate(async (value) => {
      await fetch(`/set?value=${value}`);
      return (await (await fetch('/echo')).json()).cookie;
    }, value);
  } finally {
    await page.context().close();
  }
}

let form;
before(async () => {
  form = await startFormServer();
});
after(() => form.server.close());

test('form: keyboard submit, visible result, no serious axe violations, screenshots', { timeout: 60_000 }, async () => {
  const browser = await launch();
  try {
    for (const viewport of ['desktop', 'phone']) {
      const page = await newPage(browser, { viewport });
      const requests = recordRequests(page);
      await page.goto(`${form.origin}/`);

      assert.deepEqual(await axeCheck(page), [], 'form page');
      await screenshot(page, `smoke-form-${viewport}`);

      // Keyboard only: Tab to the field (first focusable), type, Enter submits.
      await page.keyboard.press('Tab');
      const field = page.getByRole('textbox', { name: 'Your comment' });
      assert.equal(await field.evaluate((el) => el === document.activeElement), true, 'Tab focuses the field');
      await page.keyboard.type('Hello <b>world</b> & all');
      await Promise.all([page.waitForURL(`${form.origin}/comment`), page.keyboard.press('Enter')]);

      await page.getByRole('heading', { name: 'Comment posted', level: 1 }).waitFor();
      const status = page.getByRole('status');
      assert.equal(await status.isVisible(), true);
      assert.equal(await status.textContent(), 'Thanks! You wrote: Hello <b>world</b> & all');
      assert.deepEqual(await axeCheck(page), [], 'result page');
      await screenshot(page, `smoke-result-${viewport}`);

      assert.deepEqual(requests.elsewhere(form.origin), [], 'no request left for another host');
      assert.ok(requests.urls.length >= 2, `saw the requests: ${requests.urls.join(', ')}`);
      await page.context().close();
    }
  } finally {
    await browser.close();
  }
});

test('third-party cookies: launch({ thirdPartyCookies }) allows or blocks them', { timeout: 60_000 }, async (t) => {
  const sites = await startCookieServer();
  try {
    await t.test("'allow': a credentialed cross-site fetch keeps its cookie", async () => {
      const browser = await launch({ thirdPartyCookies: 'allow' });
      try {
        assert.equal(await thirdPartyRoundTrip(browser, sites, 'third'), 'probe=third');
      } finally {
        await browser.close();
      }
    });
    await t.test("'block': the cross-site cookie is dropped, first-party cookies still work", async () => {
      const browser = await launch({ thirdPartyCookies: 'block' });
      try {
        assert.equal(await thirdPartyRoundTrip(browser, sites, 'third'), '', 'third-party cookie came back');
        assert.equal(await firstPartyRoundTrip(browser, sites, 'first'), 'probe=first');
      } finally {
        await browser.close();
      }
    });
  } finally {
    sites.server.close();
  }
});
