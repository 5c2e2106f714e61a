// Moderato's comment widget in headless Chromium, as a blog embeds it: the
// blog's pages come from a little server of the test's own on
// http://localhost:PORT and load /embed.js from Moderato on
// http://127.0.0.1:PORT, another site, with third-party cookies blocked.
// A guest posts, replies, edits and deletes; a held comment is shown to its
// author only; a reader registers and comments with an account; errors
// land beside their fields; counts show on an index page; the page speaks
// German when its lang says so. Every result is checked through Moderato's
// own API too. axe-core runs on each state; no request leaves for a third
// host; no request to Moderato carries a cookie.
//
// On PostgreSQL when MODERATO_BROWSER_PG is set (see lib/server.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { launch, newPage, axeCheck, screenshot, recordRequests } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

let blog;
let server;
let browser;
let moderator;

/** The blog: article pages with the widget, and an index with counts. */
function startBlog() {
  let moderatoOrigin = '';
  let scriptBase = '';
  const page = (lang, title, body) => `<!doctype html>
<html lang="${lang}"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main><h1>${title}</h1>${body}</main>
<script src="${scriptBase}/embed.js" defer></script></body></html>`;
  const httpServer = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname.startsWith('/comments/')) {
      // A reverse proxy serving Moderato under the blog's own /comments/.
      const target = new URL(moderatoOrigin);
      const upstream = http.request({
        host: target.hostname,
        port: target.port,
        method: req.method,
        path: req.url.slice('/comments'.length),
        headers: { ...req.headers, host: target.host },
      }, (answer) => {
        res.writeHead(answer.statusCode, answer.headers);
        answer.pipe(res);
      });
      req.pipe(upstream);
      return;
    }
    res.setHeader('content-type', 'text/html; charset=utf-8');
    if (url.pathname === '/post') {
      scriptBase = url.searchParams.get('proxied') ? '/comments' : moderatoOrigin;
      const key = url.searchParams.get('key');
      const lang = url.searchParams.get('lang') || 'en';
      const theme = url.searchParams.get('theme');
      const dark = url.searchParams.get('page') === 'dark' ? '<style>body { background: #111; color: #eee; }</style>' : '';
      res.end(page(lang, `Post ${key}`, dark + `<p>An article.</p>
<div id="moderato-thread" data-article="${key}" data-title="Post ${key}"${theme ? ` data-theme="${theme}"` : ''}></div>`));
    } else if (url.pathname === '/') {
      const keys = url.searchParams.getAll('key');
      res.end(page('en', 'Index', `<ul>${keys
        .map((k) => `<li><a href="/post?key=${k}">${k}</a> <span data-moderato-count="${k}">comments</span></li>`)
        .join('')}</ul>`));
    } else {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  return new Promise((resolve) => {
    // Every interface: Chromium may reach "localhost" over ::1 or 127.0.0.1.
    httpServer.listen(0, () => {
      const origin = `http://localhost:${httpServer.address().port}`;
      resolve({
        origin,
        setModerato(o) { moderatoOrigin = o; },
        post: (key, query = '') => `${origin}/post?key=${encodeURIComponent(key)}${query}`,
        index: (...keys) => `${origin}/?${keys.map((k) => `key=${encodeURIComponent(k)}`).join('&')}`,
        close: () => new Promise((done) => httpServer.close(done)),
      });
    });
  });
}

before(async () => {
  blog = await startBlog();
  server = await startServer({
    settings: `[server]\ncors_origins = ["${blog.origin}"]\n[guards]\nduplicate_window = "1h"\n`,
  });
  blog.setModerato(server.origin);
  moderator = await server.account('admin', 'admin@example.com', 'Ada Admin');
  browser = await launch({ thirdPartyCookies: 'block' });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await blog?.close();
});

/** A fresh visitor; every request off the blog that carries a cookie is recorded. */
async function visitor(options) {
  const page = await newPage(browser, options);
  const requests = recordRequests(page);
  const cookies = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(blog.origin) && request.headers().cookie) cookies.push(request.url());
  });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  // Uncaught errors in promises land here; refused requests log too, and
  // are expected.
  page.on('console', (message) => {
    if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) errors.push(message.text());
  });
  return { page, requests, cookies, errors };
}

async function open(page, key, query = '') {
  await page.goto(blog.post(key, query));
  await page.locator('.moderato .mo-heading').filter({ hasNotText: /Loading|geladen/ }).waitFor();
}

const thread = async (key) => (await server.api('GET', `/api/v1/articles/${encodeURIComponent(key)}/comments`)).body;
const comment = (page, id) => page.locator(`#moderato-comment-${id}`);
const mainForm = (page) => page.locator('.mo-composer form');

async function postAsGuest(page, { body, name = 'Gus Guest', email = 'gus@example.com', remember = false }) {
  const form = mainForm(page);
  await form.getByLabel('Comment', { exact: true }).fill(body);
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByLabel('Email', { exact: true }).fill(email);
  if (remember) await form.getByLabel('Remember my name and email on this device').check();
  const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/comments'));
  await form.getByRole('button', { name: 'Post comment' }).click();
  return (await answer).json();
}

function noStrangers(requests, cookies, errors, moderato = server) {
  assert.deepEqual(errors, [], 'script errors on the page');
  assert.deepEqual(requests.elsewhere(blog.origin, moderato.origin), [], 'requests to a third host');
  assert.deepEqual(cookies, [], 'requests to Moderato that carried a cookie');
}

test('a guest posts and sees the comment; counts show on an index page', { timeout: 90_000 }, async () => {
  const { page, requests, cookies, errors } = await visitor();
  try {
    await open(page, 'first-post');
    assert.equal(await page.locator('.mo-heading').textContent(), '0 comments');
    assert.deepEqual(await axeCheck(page), [], 'empty thread with the guest form');

    const posted = await postAsGuest(page, { body: 'Hello from a **guest**', remember: true });
    await comment(page, posted.id).getByText('Hello from a').waitFor();
    assert.equal(await comment(page, posted.id).locator('strong').textContent(), 'guest', 'Markdown rendered');
    assert.match(await page.locator('.mo-status').textContent(), /published/);
    assert.equal(await page.locator('.mo-heading').textContent(), '1 comment');
    assert.equal(await mainForm(page).getByLabel('Comment', { exact: true }).inputValue(), '', 'form emptied');

    const stored = await thread('first-post');
    assert.equal(stored.total, 1);
    assert.equal(stored.comments[0].author.name, 'Gus Guest');
    assert.equal(stored.comments[0].body, 'Hello from a **guest**');
    assert.equal(stored.article.title, 'Post first-post', 'the title from data-title');
    assert.equal(stored.article.url, blog.post('first-post'), 'the page URL, on an allowed origin');

    // Remembered on this device, opted in.
    await open(page, 'first-post');
    assert.equal(await mainForm(page).getByLabel('Name', { exact: true }).inputValue(), 'Gus Guest');
    assert.equal(await mainForm(page).getByLabel('Email', { exact: true }).inputValue(), 'gus@example.com');
    const time = comment(page, posted.id).locator('time');
    assert.ok(await time.getAttribute('datetime'), 'time has a datetime');
    assert.deepEqual(await axeCheck(page), [], 'thread with a comment');
    await screenshot(page, `widget-thread-desktop-${server.backend}`);

    await page.goto(blog.index('first-post', 'nobody-commented'));
    await page.getByText('1 comment', { exact: true }).waitFor();
    await page.getByText('0 comments', { exact: true }).waitFor();
    const countCalls = requests.urls.filter((u) => u.includes('/api/v1/counts'));
    assert.equal(countCalls.length, 1, 'one request for every count on the page');
    noStrangers(requests, cookies, errors);
  } finally {
    await page.context().close();
  }
});

test('a held comment is shown to its author only, until it is approved', { timeout: 90_000 }, async () => {
  const author = await visitor();
  const other = await visitor();
  try {
    await open(author.page, 'held-post');
    // Two links: the links scorer holds it for review.
    const posted = await postAsGuest(author.page, {
      body: 'Two links: https://one.example/a and https://two.example/b',
      name: 'Hal Held',
      email: 'hal@example.com',
    });
    assert.equal(posted.status, 'pending');
    const mine = comment(author.page, posted.id);
    await mine.getByText('Awaiting moderation').waitFor();
    assert.match(await author.page.locator('.mo-status').textContent(), /waiting for a moderator/);
    assert.equal(await author.page.locator('.mo-heading').textContent(), '0 comments', 'not counted publicly');
    assert.deepEqual(await axeCheck(author.page), [], 'held comment');

    // Still there for its author after a reload; never for anyone else.
    await open(author.page, 'held-post');
    await mine.getByText('Awaiting moderation').waitFor();
    await open(other.page, 'held-post');
    assert.equal(await comment(other.page, posted.id).count(), 0, 'another visitor sees no held comment');
    assert.equal((await thread('held-post')).total, 0);

    const decided = await server.api('POST', `/api/v1/moderation/comments/${posted.id}/decision`,
      { action: 'approve' }, { token: moderator.token });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
    await open(author.page, 'held-post');
    await mine.getByText('Two links').waitFor();
    assert.equal(await mine.getByText('Awaiting moderation').count(), 0, 'approved: no longer marked');
    await open(other.page, 'held-post');
    await comment(other.page, posted.id).getByText('Two links').waitFor();
    noStrangers(author.requests, author.cookies, author.errors);
  } finally {
    await author.page.context().close();
    await other.page.context().close();
  }
});

test('a guest replies, edits the reply and deletes it within the edit window', { timeout: 90_000 }, async () => {
  const { page, requests, cookies, errors } = await visitor({ viewport: 'phone' });
  try {
    const first = await server.comment('reply-post', { name: 'Ann Original', email: 'ann@example.com', body: 'The first word' });
    assert.equal(first.status, 201);
    await open(page, 'reply-post');
    const parent = comment(page, first.body.id);
    await parent.getByRole('button', { name: 'Reply to Ann Original' }).click();
    const replyForm = parent.locator('form');
    assert.equal(await replyForm.locator('textarea').evaluate((el) => el === document.activeElement), true,
      'the reply box takes the focus');
    await replyForm.locator('textarea').fill('A reply, with a typo');
    await replyForm.getByLabel('Name', { exact: true }).fill('Rex Replier');
    await replyForm.getByLabel('Email', { exact: true }).fill('rex@example.com');
    // Preview shows the rendered text before posting.
    await replyForm.getByRole('button', { name: 'Preview' }).click();
    await replyForm.locator('.mo-preview').getByText('A reply, with a typo').waitFor();
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/comments'));
    await replyForm.getByRole('button', { name: 'Post reply' }).click();
    const reply = await (await answer).json();
    assert.equal(reply.parent_id, first.body.id);
    // Nested under its parent.
    await page.locator(`li[data-id="${first.body.id}"] > ol.mo-replies #moderato-comment-${reply.id}`).waitFor();
    await screenshot(page, `widget-reply-phone-${server.backend}`);

    // Edit (the edit token is in this page's localStorage).
    await open(page, 'reply-post');
    const mine = comment(page, reply.id);
    await mine.getByRole('button', { name: 'Edit' }).click();
    await mine.locator('textarea').fill('A reply, corrected');
    await mine.getByRole('button', { name: 'Save' }).click();
    await mine.getByText('A reply, corrected').waitFor();
    let stored = await thread('reply-post');
    assert.equal(stored.comments.find((c) => c.id === reply.id).body, 'A reply, corrected');
    assert.ok(stored.comments.find((c) => c.id === reply.id).edited_at, 'marked as edited');
    // Nobody else gets the buttons.
    assert.equal(await comment(page, first.body.id).getByRole('button', { name: 'Edit' }).count(), 0);

    await mine.getByRole('button', { name: 'Delete' }).click();
    await mine.getByRole('button', { name: 'Yes, delete' }).click();
    await page.locator('.mo-status').getByText('Your comment is deleted.').waitFor();
    assert.equal(await comment(page, reply.id).count(), 0);
    stored = await thread('reply-post');
    assert.deepEqual(stored.comments.map((c) => c.id), [first.body.id], 'the reply is gone from the thread');
    noStrangers(requests, cookies, errors);
  } finally {
    await page.context().close();
  }
});

test('deep replies stop indenting and say whom they answer; Load more and newest first', { timeout: 90_000 }, async () => {
  const paged = await startServer({
    settings: `[server]\ncors_origins = ["${blog.origin}"]\n[comments]\npage_size = 3\n[widget]\nmax_depth = 2\n`,
  });
  const { page, requests, cookies, errors } = await visitor();
  try {
    blog.setModerato(paged.origin);
    const post = async (name, body, parent) => {
      const answer = await paged.api('POST', '/api/v1/articles/deep/comments',
        { body, parent_id: parent, author: { name, email: `${name.toLowerCase()}@example.com` } });
      assert.equal(answer.status, 201, JSON.stringify(answer.body));
      return answer.body.id;
    };
    const a = await post('Amy', 'Level zero');
    const b = await post('Ben', 'Level one', a);
    const c = await post('Cid', 'Level two', b);
    const d = await post('Dot', 'Would be level three', c);
    const e = await post('Eli', 'Second top-level');
    const f = await post('Fay', 'Third top-level');
    await open(page, 'deep');
    assert.equal(await page.locator('.mo-heading').textContent(), '6 comments');
    // Three per page: the first page holds Amy, Ben and Cid.
    assert.equal(await page.locator('.mo-comment').count(), 3);
    await page.getByRole('button', { name: 'Load more comments' }).click();
    await comment(page, f).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Load more comments' }).isVisible(), false, 'last page');
    // Dot sits beside Cid, at the deepest indent, and names whom it answers.
    const depthOf = (id) => page.locator(`li[data-id="${id}"]`).evaluate((li) => {
      let depth = 0;
      for (let at = li.parentElement; at && !at.classList.contains('mo-list'); at = at.parentElement) {
        if (at.classList.contains('mo-replies')) depth += 1;
      }
      return depth;
    });
    assert.deepEqual(await Promise.all([a, b, c, d].map(depthOf)), [0, 1, 2, 2]);
    assert.equal(await comment(page, d).locator('.mo-reply-to').textContent(), 'in reply to Cid');
    assert.equal(await comment(page, c).locator('.mo-reply-to').count(), 0);
    const order = () => page.locator('.mo-list > li').evaluateAll((items) => items.map((li) => Number(li.dataset.id)));
    assert.deepEqual(await order(), [a, e, f]);

    // Newest first: top-level comments newest first, replies still under
    // their parents once the parents arrive.
    await page.getByRole('button', { name: 'Newest first' }).click();
    await page.waitForFunction((id) => document.querySelector('.mo-list > li')?.dataset.id === String(id), f);
    while (await page.getByRole('button', { name: 'Load more comments' }).isVisible()) {
      await page.getByRole('button', { name: 'Load more comments' }).click();
      await page.waitForFunction(() => !document.querySelector('.mo-more')?.disabled);
    }
    await comment(page, a).waitFor();
    assert.deepEqual(await order(), [f, e, a]);
    assert.deepEqual(await Promise.all([a, b, c, d].map(depthOf)), [0, 1, 2, 2]);
    noStrangers(requests, cookies, errors, paged);
  } finally {
    blog.setModerato(server.origin);
    await page.context().close();
    await paged.stop();
  }
});

test('a reader registers and comments with an account, with third-party cookies blocked', { timeout: 120_000 }, async () => {
  assert.equal(browser.thirdPartyCookies, 'block');
  const { page, requests, cookies, errors } = await visitor();
  try {
    await open(page, 'account-post');
    await page.locator('.mo-account').getByRole('button', { name: 'Create account' }).click();
    const signIn = page.locator('.mo-signin');
    await signIn.getByLabel('Name').fill('Rita Reader');
    await signIn.getByLabel('Email').fill('rita@example.com');
    await signIn.getByLabel('Password').fill('short');
    await signIn.getByRole('button', { name: 'Create account' }).click();
    await signIn.getByText('At least 8 characters, please.').first().waitFor();
    await signIn.getByLabel('Password').fill('a long enough password');
    await signIn.getByRole('button', { name: 'Create account' }).click();
    await page.locator('.mo-account').getByText('Signed in as').waitFor();
    assert.equal(await mainForm(page).getByLabel('Name', { exact: true }).count(), 0, 'no guest fields');
    assert.deepEqual(await axeCheck(page), [], 'signed in');

    await mainForm(page).getByLabel('Comment', { exact: true }).fill('Written with an account');
    const answer = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().endsWith('/comments'));
    await mainForm(page).getByRole('button', { name: 'Post comment' }).click();
    const posted = await (await answer).json();
    assert.equal(posted.status, 'approved', JSON.stringify(posted));
    const stored = (await thread('account-post')).comments[0];
    assert.equal(stored.author.name, 'Rita Reader');
    assert.equal(stored.author.registered, true, 'stored as the account\'s comment');

    // The session lives in the page's storage: still signed in after a
    // reload, and the account may edit its comment.
    await open(page, 'account-post');
    await page.locator('.mo-account').getByText('Rita Reader').waitFor();
    await comment(page, posted.id).getByRole('button', { name: 'Edit' }).waitFor();
    await screenshot(page, `widget-account-desktop-${server.backend}`);

    await page.locator('.mo-account').getByRole('button', { name: 'Sign out' }).click();
    await page.locator('.mo-account').getByRole('button', { name: 'Sign in' }).waitFor();
    await mainForm(page).getByLabel('Name', { exact: true }).waitFor();
    // Signed in again with the password.
    await page.locator('.mo-account').getByRole('button', { name: 'Sign in' }).click();
    await signIn.getByLabel('Email').fill('rita@example.com');
    await signIn.getByLabel('Password').fill('wrong password');
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.mo-status').getByText('That email and password do not match an account.').waitFor();
    await signIn.getByLabel('Password').fill('a long enough password');
    await signIn.getByRole('button', { name: 'Sign in' }).click();
    await page.locator('.mo-account').getByText('Signed in as').waitFor();
    noStrangers(requests, cookies, errors);
  } finally {
    await page.context().close();
  }
});

test('errors are shown beside their field, or said plainly', { timeout: 90_000 }, async () => {
  const { page } = await visitor();
  try {
    await open(page, 'error-post');
    const form = mainForm(page);
    // Nothing filled in: each required field says so, and the first takes the focus.
    await form.getByRole('button', { name: 'Post comment' }).click();
    const body = form.getByLabel('Comment', { exact: true });
    assert.equal(await body.getAttribute('aria-invalid'), 'true');
    assert.equal(await body.evaluate((el) => el === document.activeElement), true);
    for (const label of ['Comment', 'Name', 'Email']) {
      const field = form.getByLabel(label, { exact: true });
      const described = await field.getAttribute('aria-describedby');
      const error = page.locator(`#${described.split(' ')[0]}`);
      assert.equal(await error.textContent(), 'Please fill this in.', label);
    }
    assert.deepEqual(await axeCheck(page), [], 'form with errors');
    await screenshot(page, `widget-errors-desktop-${server.backend}`);

    // The server's refusal of a field lands beside that field.
    await body.fill('A fine comment');
    await form.getByLabel('Name', { exact: true }).fill('<b>Angle</b>');
    await form.getByLabel('Email', { exact: true }).fill('angle@example.com');
    await form.getByRole('button', { name: 'Post comment' }).click();
    const name = form.getByLabel('Name', { exact: true });
    await page.waitForFunction((el) => el.getAttribute('aria-invalid') === 'true', await name.elementHandle());
    assert.equal(await body.getAttribute('aria-invalid'), null, 'only the name is marked');
    assert.equal((await thread('error-post')).total, 0, 'nothing stored');

    // A duplicate says so; the first one stays.
    await name.fill('Dee Duplicate');
    await form.getByRole('button', { name: 'Post comment' }).click();
    await page.locator('.mo-status').getByText('published').waitFor();
    await body.fill('A fine comment');
    await form.getByRole('button', { name: 'Post comment' }).click();
    await page.locator('.mo-status').getByText('You already posted this comment here.').waitFor();
    assert.equal((await thread('error-post')).total, 1);

    // Closed: the form gives way to a notice.
    const closed = await server.api('PUT', '/api/v1/articles/error-post', { comments_open: false }, { token: moderator.token });
    assert.equal(closed.status, 200, JSON.stringify(closed.body));
    await open(page, 'error-post');
    await page.getByText('Comments are closed on this page.').waitFor();
    assert.equal(await mainForm(page).count(), 0);
    assert.equal(await page.getByRole('button', { name: /^Reply/ }).count(), 0);
  } finally {
    await page.context().close();
  }
});

test('too many comments: the widget says how long to wait', { timeout: 90_000 }, async () => {
  const limited = await startServer({
    settings: `[server]\ncors_origins = ["${blog.origin}"]\n[comments.rate_limit]\nper_ip = 1\n`,
  });
  const page = await newPage(browser);
  try {
    blog.setModerato(limited.origin);
    await open(page, 'busy-post');
    await postAsGuest(page, { body: 'The one comment allowed' });
    await page.locator('.mo-status').getByText('published').waitFor();
    const refused = await postAsGuest(page, { body: 'One too many' });
    assert.equal(refused.error.code, 'rate_limited');
    await page.locator('.mo-status').getByText(/You are posting too often\. Please wait \d+ (minutes?|seconds?)/).waitFor();
  } finally {
    blog.setModerato(server.origin);
    await page.context().close();
    await limited.stop();
  }
});

test('behind a reverse proxy under the blog\'s own path, the widget finds the API there', { timeout: 60_000 }, async () => {
  const { page, requests, cookies, errors } = await visitor();
  try {
    await open(page, 'proxied-post', '&proxied=1');
    const posted = await postAsGuest(page, { body: 'Through the proxy', name: 'Pat Proxy', email: 'pat@example.com' });
    await comment(page, posted.id).getByText('Through the proxy').waitFor();
    assert.equal((await thread('proxied-post')).total, 1);
    assert.deepEqual(requests.elsewhere(blog.origin), [], 'every request went to the blog\'s origin');
    assert.ok(requests.urls.some((u) => u.startsWith(`${blog.origin}/comments/api/v1/`)), requests.urls.join('\n'));
    noStrangers(requests, cookies, errors);
  } finally {
    await page.context().close();
  }
});

test('a blog missing from server.cors_origins is told so in the console', { timeout: 60_000 }, async () => {
  const closedDoor = await startServer();
  const page = await newPage(browser);
  const warnings = [];
  page.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
  });
  try {
    blog.setModerato(closedDoor.origin);
    await page.goto(blog.post('any-post'));
    await page.locator('.mo-heading').getByText('The comments could not be loaded.').waitFor();
    await page.getByRole('button', { name: 'Try again' }).waitFor();
    assert.ok(warnings.some((w) => w.includes(`add "${blog.origin}" to server.cors_origins`)), warnings.join('\n'));
  } finally {
    blog.setModerato(server.origin);
    await page.context().close();
    await closedDoor.stop();
  }
});

test('the widget speaks the page\'s language, and looks as light or dark as the page', { timeout: 60_000 }, async () => {
  // The reader's system is dark; the blog's pages decide.
  const { page, requests, cookies, errors } = await visitor({ colorScheme: 'dark' });
  const headingColour = () => page.locator('.mo-heading').evaluate((el) => getComputedStyle(el).color);
  try {
    await server.comment('german-post', { name: 'Gerd', email: 'gerd@example.com', body: 'Guten Tag' });
    await open(page, 'german-post', '&lang=de&page=dark');
    assert.equal(await page.locator('.mo-heading').textContent(), '1 Kommentar');
    await mainForm(page).getByRole('button', { name: 'Kommentar senden' }).waitFor();
    await mainForm(page).getByLabel('Kommentar', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Antwort an Gerd' }).waitFor();
    assert.equal(await headingColour(), 'rgb(230, 237, 243)', 'light text on a dark page');
    assert.deepEqual(await axeCheck(page), [], 'German, dark');
    await screenshot(page, `widget-german-dark-${server.backend}`);
    await open(page, 'german-post', '&lang=de');
    assert.equal(await headingColour(), 'rgb(31, 35, 40)', 'dark text on a light page, whatever the system');
    await open(page, 'german-post', '&lang=de&theme=dark');
    assert.equal(await headingColour(), 'rgb(230, 237, 243)', 'data-theme="dark" decides when given');
    noStrangers(requests, cookies, errors);
  } finally {
    await page.context().close();
  }
});

test('the root page shows the two lines to paste, and the demo page works', { timeout: 60_000 }, async () => {
  const { page, requests, cookies, errors } = await visitor();
  try {
    await page.goto(`${server.origin}/`);
    await page.getByText('is running').waitFor();
    const snippet = await page.locator('pre').textContent();
    assert.match(snippet, /<div id="moderato-thread" data-article="[^"]+" data-title="[^"]+"><\/div>/);
    assert.ok(snippet.includes(`<script src="${server.origin}/embed.js" defer></script>`), snippet);
    assert.deepEqual(await axeCheck(page), [], 'root page');
    await page.getByRole('link', { name: 'See the widget on a demo article' }).click();
    await page.locator('.moderato .mo-heading').filter({ hasNotText: 'Loading' }).waitFor();
    await postAsGuest(page, { body: 'Trying the demo', name: 'Demi Demo', email: 'demi@example.com' });
    await page.locator('.mo-list').getByText('Trying the demo').waitFor();
    assert.equal((await thread('moderato-demo')).total, 1);
    assert.deepEqual(await axeCheck(page), [], 'demo page');
    noStrangers(requests, cookies, errors);
  } finally {
    await page.context().close();
  }
});
