// Isso's own JavaScript client (0.14, embed.min.js from the PyPI package,
// never copied here) on a blog page, talking to the real moderato binary
// on another origin: it posts, previews, replies, edits, deletes, likes and
// counts, and each result is checked through Moderato's own JSON API.
//
//   export MODERATO_ISSO_JS="$(.ci/isso-setup.sh)"
//   cargo build && (cd tests/browser && node --test isso.test.mjs)
//
// MODERATO_BROWSER_PG=postgres://... runs the server on PostgreSQL.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { launch, newPage, recordRequests, axeCheck, screenshot } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

const ISSO_JS = process.env.MODERATO_ISSO_JS;
const PAGE = '/blog/hello-world/';
const KEY = encodeURIComponent(PAGE);

const escapeHtml = (s) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function layout(title, moderato, body) {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
  body { font: 16px/1.5 sans-serif; margin: 0; color: #1a1a1a; background: #fff; }
  main { max-width: 40rem; margin: 0 auto; padding: 1.5rem; }
</style>
<script src="/vendor/isso/embed.min.js" data-isso="${moderato}/isso"
        data-isso-css-url="/vendor/isso/isso.css" data-isso-lang="en" defer></script>
</head>
<body>
<main>
${body}
</main>
</body>
</html>`;
}

/** The blog: an article with Isso's thread, an index with comment counts, Isso's files. */
async function startBlog() {
  let moderato = '';
  const files = {
    '/vendor/isso/embed.min.js': [ISSO_JS, 'text/javascript'],
    '/vendor/isso/isso.css': [path.join(path.dirname(ISSO_JS), '..', 'css', 'isso.css'), 'text/css'],
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://placeholder');
    const html = (body) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(body);
    };
    if (url.pathname === PAGE) {
      return html(
        layout(
          'Hello, world',
          moderato,
          `<article><h1>Hello, world</h1><p>A post worth talking about.</p></article>
<section id="isso-thread" data-title="Hello, world" aria-label="Comments"><noscript>Comments need JavaScript.</noscript></section>`,
        ),
      );
    }
    if (url.pathname === '/') {
      return html(
        layout(
          'A blog',
          moderato,
          `<h1>A blog</h1><ul><li><a href="${PAGE}">Hello, world</a>: <a href="${PAGE}#isso-thread">comments</a></li></ul>`,
        ),
      );
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204);
      return res.end();
    }
    const file = files[url.pathname];
    if (file) {
      res.writeHead(200, { 'content-type': file[1] });
      return res.end(fs.readFileSync(file[0]));
    }
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    origin: `http://127.0.0.1:${server.address().port}`,
    setModerato(origin) {
      moderato = origin;
    },
  };
}

let blog;
let moderato;
before(async () => {
  if (!ISSO_JS || !fs.existsSync(ISSO_JS)) {
    throw new Error('MODERATO_ISSO_JS must name Isso\'s embed.min.js: export MODERATO_ISSO_JS="$(.ci/isso-setup.sh)"');
  }
  blog = await startBlog();
  // Both origins are on 127.0.0.1, one site: the edit cookie is a
  // first-party one (SameSite=Lax, no Secure over plain http). Every
  // request comes from 127.0.0.1, a trusted proxy, so a second commenter
  // can be given another address with X-Forwarded-For.
  moderato = await startServer({
    settings:
      `[server]\ncors_origins = ["${blog.origin}"]\ntrusted_proxies = ["127.0.0.1"]\n` +
      `[auth]\ncookie_secure = false\n[isso]\nfeed_base = "${blog.origin}"\n`,
  });
  blog.setModerato(moderato.origin);
});
after(async () => {
  await moderato?.stop();
  blog?.server.close();
});

/** GET on Moderato's JSON API, as JSON. */
async function native(pathname) {
  const response = await moderato.fetch(pathname);
  assert.equal(response.status, 200, `${pathname}: ${await response.clone().text()}`);
  return response.json();
}

const thread = () => native(`/api/v1/articles/${KEY}/comments?limit=200`);

/** Waits until `predicate(arg)` holds in the page. */
const until = (page, predicate, arg) => page.waitForFunction(predicate, arg, { timeout: 10_000 });

/** The comment elements' ids (numbers), in page order. */
const shownIds = (page) =>
  page.$$eval('#isso-root .isso-comment', (els) => els.map((el) => Number(el.id.replace('isso-', ''))));

const footer = (id) => `#isso-${id} > .isso-text-wrapper > .isso-comment-footer`;
const text = (id) => `#isso-${id} > .isso-text-wrapper > .isso-text`;

test("Isso's client posts, replies, edits, deletes, likes and counts through Moderato", { timeout: 120_000 }, async () => {
  const browser = await launch();
  try {
    const page = await newPage(browser);
    const requests = recordRequests(page);
    const problems = [];
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(`console: ${message.text()}`);
    });

    await page.goto(`${blog.origin}${PAGE}`);
    await page.locator('#isso-thread .isso-postbox').waitFor();
    await until(page, () => document.querySelector('.isso-thread-heading')?.textContent === 'No Comments Yet');
    // /config made name and email required (comments.require_name_email).
    assert.equal(await page.locator("label[for='isso-postbox-author']").textContent(), 'Name');

    // Preview: Moderato's renderer and sanitizer.
    const postbox = page.locator('#isso-thread > .isso-postbox');
    await postbox.locator('textarea').fill('**Hello** from Isso <script>alert(1)</script>');
    await postbox.locator("input[name='preview']").click();
    await until(page, () => document.querySelector('.isso-postbox .isso-preview .isso-text')?.innerHTML.includes('<strong>'));
    const preview = await postbox.locator('.isso-preview .isso-text').innerHTML();
    assert.match(preview, /<strong>Hello<\/strong> from Isso &lt;script&gt;/);
    assert.doesNotMatch(preview, /<script/);

    await postbox.locator("input[name='edit']").click();

    // Post.
    await postbox.locator('textarea').fill('Hello from **Isso**');
    await postbox.locator("input[name='author']").fill('Ada');
    await postbox.locator("input[name='email']").fill('ada@example.com');
    await postbox.locator("input[name='website']").fill('ada.example');
    await postbox.locator("input[type='submit']").click();
    await until(page, () => document.querySelectorAll('#isso-root .isso-comment').length === 1);
    const [ada] = await shownIds(page);
    assert.equal(await page.locator(text(ada)).innerHTML(), '<p>Hello from <strong>Isso</strong></p>\n');
    let stored = await thread();
    assert.equal(stored.total, 1);
    assert.equal(stored.comments[0].id, ada);
    assert.equal(stored.comments[0].body, 'Hello from **Isso**');
    assert.equal(stored.comments[0].author.url, 'http://ada.example/');
    assert.equal(stored.article.title, 'Hello, world', "the first comment's data-title");
    assert.equal(stored.article.url, `${blog.origin}${PAGE}`);
    // The page got its cookie (X-Set-Cookie) and shows edit and delete.
    assert.match(await page.evaluate(() => document.cookie), new RegExp(`isso-${ada}=`));
    assert.equal(await page.locator(`${footer(ada)} a.isso-edit`).count(), 1);
    // Replying to oneself waits for the edit window (isso.reply_to_self).
    assert.equal(await page.locator(`${footer(ada)} a.isso-reply`).count(), 0);

    // Someone else comments from another address, through the JSON API.
    const posted = await moderato.fetch(`/api/v1/articles/${KEY}/comments`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.5' },
      body: JSON.stringify({ body: 'Welcome, Ada!', author: { name: 'Bo', email: 'bo@example.com' } }),
    });
    assert.equal(posted.status, 201);
    const bo = (await posted.json()).id;
    await page.reload();
    await until(page, () => document.querySelectorAll('#isso-root > .isso-comment').length === 2);
    assert.equal(await page.locator('.isso-thread-heading').textContent(), '2 Comments');
    assert.deepEqual(await shownIds(page), [ada, bo]);

    // Reply to Bo.
    await page.locator(`${footer(bo)} a.isso-reply`).click();
    const replyBox = page.locator(`#isso-${bo} .isso-postbox`);
    await replyBox.locator('textarea').fill('Thanks, Bo.');
    assert.equal(await replyBox.locator("input[name='author']").inputValue(), 'Ada', 'remembered by the client');
    await replyBox.locator("input[type='submit']").click();
    await until(page, (bo) => document.querySelectorAll(`#isso-${bo} > .isso-follow-up > .isso-comment`).length === 1, bo);
    const reply = Number((await page.locator(`#isso-${bo} > .isso-follow-up > .isso-comment`).getAttribute('id')).replace('isso-', ''));
    stored = await thread();
    assert.equal(stored.total, 3);
    assert.equal(stored.comments.find((c) => c.id === reply).parent_id, bo);

    // Edit: the client reads the markdown back (GET /id/{id}?plain=1 with
    // the edit cookie), then saves.
    await page.locator(`${footer(ada)} a.isso-edit`).click();
    const editor = page.locator(`#isso-${ada} > .isso-text-wrapper textarea`);
    await until(page, (sel) => document.querySelector(sel)?.value === 'Hello from **Isso**', `#isso-${ada} > .isso-text-wrapper textarea`);
    await editor.fill('Hello from **Isso**, edited');
    await page.locator(`${footer(ada)} a.isso-edit`).click();
    await until(page, (sel) => document.querySelector(sel)?.innerHTML.includes('edited'), text(ada));
    stored = await thread();
    const edited = stored.comments.find((c) => c.id === ada);
    assert.equal(edited.body, 'Hello from **Isso**, edited');
    assert.notEqual(edited.edited_at, null);

    // Votes: a like on Bo's comment counts; one on one's own does not.
    await page.locator(`${footer(bo)} a.isso-upvote`).click();
    await until(page, (sel) => document.querySelector(sel)?.textContent === '1', `${footer(bo)} span.isso-votes`);
    await page.locator(`${footer(ada)} a.isso-upvote`).click();
    await page.locator(`${footer(bo)} a.isso-upvote`).click();
    const votes = await (await moderato.fetch(`/isso/?uri=${KEY}`)).json();
    const byId = Object.fromEntries(votes.replies.map((c) => [c.id, c]));
    assert.equal(byId[bo].likes, 1, 'one like per address');
    assert.equal(byId[ada].likes, 0, 'no like on one own comment');

    // Delete the reply: it has no replies, so it leaves the page.
    await page.locator(`${footer(reply)} a.isso-delete`).click();
    assert.equal(await page.locator(`${footer(reply)} a.isso-delete`).textContent(), 'Confirm');
    await page.locator(`${footer(reply)} a.isso-delete`).click();
    await until(page, (id) => !document.getElementById(`isso-${id}`), reply);
    stored = await thread();
    assert.deepEqual(stored.comments.map((c) => c.id), [ada, bo]);
    assert.doesNotMatch(await page.evaluate(() => document.cookie), new RegExp(`isso-${reply}=`));

    // Counts on the blog's index: data from POST /count.
    await page.goto(`${blog.origin}/`);
    const counter = page.locator(`a[href="${PAGE}#isso-thread"]`);
    await until(page, (sel) => document.querySelector(sel)?.textContent === '2 Comments', `a[href="${PAGE}#isso-thread"]`);
    const counts = await native(`/api/v1/counts?article=${KEY}`);
    assert.equal(counts.counts[PAGE], 2);
    assert.equal(await counter.textContent(), '2 Comments');

    // The thread's feed (isso.feed_base) parses as Atom in the browser.
    await page.goto(`${blog.origin}${PAGE}`);
    const feedHref = await page.locator('.isso-feedlink a').getAttribute('href');
    assert.equal(feedHref, `${moderato.origin}/isso/feed?uri=${KEY}`);
    const feed = await page.evaluate(async (href) => {
      const response = await fetch(href);
      const doc = new DOMParser().parseFromString(await response.text(), 'application/xml');
      return {
        type: response.headers.get('content-type'),
        broken: doc.getElementsByTagName('parsererror').length,
        root: doc.documentElement.namespaceURI,
        entries: [...doc.getElementsByTagName('entry')].map((e) => e.getElementsByTagName('content')[0].textContent),
      };
    }, feedHref);
    assert.equal(feed.broken, 0);
    assert.equal(feed.root, 'http://www.w3.org/2005/Atom');
    assert.match(feed.type, /^application\/atom\+xml/);
    assert.deepEqual(feed.entries, ['<p>Welcome, Ada!</p>\n', '<p>Hello from <strong>Isso</strong>, edited</p>\n']);

    await until(page, () => document.querySelectorAll('#isso-root > .isso-comment').length === 2);
    await screenshot(page, 'isso-thread-desktop');
    // Isso's own markup is not ours to fix; the page around it is.
    assert.deepEqual(await axeCheck(page, { exclude: '#isso-thread' }), [], 'blog page');
    const widget = await axeCheck(page, { include: '#isso-thread' });
    if (widget.length > 0) console.log(`Isso's widget, serious or critical (upstream):\n${widget.join('\n')}`);

    const phone = await newPage(browser, { viewport: 'phone' });
    await phone.goto(`${blog.origin}${PAGE}`);
    await until(phone, () => document.querySelectorAll('#isso-root > .isso-comment').length === 2);
    await screenshot(phone, 'isso-thread-phone');
    await phone.context().close();

    assert.deepEqual(requests.elsewhere(blog.origin, moderato.origin), [], 'no request left for another host');
    assert.deepEqual(problems, []);
    await page.context().close();
  } finally {
    await browser.close();
  }
});

/** Posts a comment through the client on `origin`'s page; returns its id. */
async function postThroughClient(page, origin, words) {
  await page.goto(`${origin}${PAGE}`);
  const postbox = page.locator('#isso-thread > .isso-postbox');
  await postbox.waitFor();
  // The thread's first read must be in: what it lists is added to the page
  // then, and a comment posted before would be shown twice.
  await until(page, () => (document.querySelector('.isso-thread-heading')?.textContent ?? '') !== '');
  await postbox.locator('textarea').fill(words);
  await postbox.locator("input[name='author']").fill('Cy');
  await postbox.locator("input[name='email']").fill('cy@example.com');
  const [answer] = await Promise.all([
    page.waitForResponse((r) => r.url().includes('/isso/new?') && r.request().method() === 'POST'),
    postbox.locator("input[type='submit']").click(),
  ]);
  assert.equal(answer.status(), 201);
  const { id } = await answer.json();
  await page.locator(`#isso-${id}`).waitFor();
  return id;
}

/** From the page, what Moderato answers to reading comment `id` back with the page's credentials. */
const readBack = (page, server, id) =>
  page.evaluate(
    async ({ server, id }) => (await fetch(`${server}/isso/id/${id}?plain=1`, { credentials: 'include' })).status,
    { server, id },
  );

test('across sites the edit cookie is SameSite=None; Secure, and needs third-party cookies', { timeout: 120_000 }, async (t) => {
  // The blog on http://127.0.0.1, Moderato on http://localhost: two sites.
  // Chromium treats both as secure contexts, so Secure cookies work over
  // plain http here, as they do over https in production.
  const site = await startBlog();
  const server = await startServer({
    settings: `[server]\ncors_origins = ["${site.origin}"]\n`,
  });
  const cross = server.origin.replace('127.0.0.1', 'localhost');
  site.setModerato(cross);
  try {
    await t.test('third-party cookies allowed: the author reads back and edits', async () => {
      const browser = await launch({ thirdPartyCookies: 'allow' });
      try {
        const page = await newPage(browser);
        const id = await postThroughClient(page, site.origin, 'Posted across sites');
        assert.equal(await readBack(page, cross, id), 200);
        await page.locator(`${footer(id)} a.isso-edit`).click();
        const editor = `#isso-${id} > .isso-text-wrapper textarea`;
        await until(page, (sel) => document.querySelector(sel)?.value === 'Posted across sites', editor);
        await page.locator(editor).fill('Edited across sites');
        await page.locator(`${footer(id)} a.isso-edit`).click();
        await until(page, (sel) => document.querySelector(sel)?.textContent.includes('Edited'), text(id));
        const stored = await (await server.fetch(`/api/v1/articles/${KEY}/comments`)).json();
        assert.equal(stored.comments.find((c) => c.id === id).body, 'Edited across sites');
        await page.context().close();
      } finally {
        await browser.close();
      }
    });
    await t.test('third-party cookies blocked: posting works, the edit cookie never comes back', async () => {
      const browser = await launch({ thirdPartyCookies: 'block' });
      try {
        const page = await newPage(browser);
        const id = await postThroughClient(page, site.origin, 'Posted with cookies blocked');
        assert.equal(await readBack(page, cross, id), 403);
        const stored = await (await server.fetch(`/api/v1/articles/${KEY}/comments`)).json();
        assert.ok(
          stored.comments.some((c) => c.id === id && c.body === 'Posted with cookies blocked'),
          `${id} in ${JSON.stringify(stored)}; page: ${await page.locator(`#isso-${id}`).innerText()}`,
        );
        await page.context().close();
      } finally {
        await browser.close();
      }
    });
  } finally {
    await server.stop();
    site.server.close();
  }
});
