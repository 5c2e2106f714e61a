// The moderation console in headless Chromium, against the real server: a
// moderator signs in, sees why comments were held, approves one with the
// keyboard, marks one as spam, trashes three at once and undoes it, bans a
// commenter's IP range (whose next comment is then refused), and finds it
// all in the audit log. Each step is checked through the JSON API too. A
// commenter is refused. axe-core runs on every page; screenshots are taken
// at 1280 and 360 pixels wide.
//
// On PostgreSQL when MODERATO_BROWSER_PG is set (see lib/server.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { launch, newPage, axeCheck, screenshot, recordRequests, SCREENSHOT_DIR } from './lib/browser.mjs';
import { startServer } from './lib/server.mjs';

let server;
let browser;
let moderator;
let commenter;
const ids = {};

const people = [
  ['ann', 'Ann Archer', 'ann@example.com', '192.0.2.11', 'Thanks, this fixed my build.'],
  ['bob', 'Bob Baker', 'bob@example.com', '192.0.2.12', 'Cheap watches at a great price, click now'],
  ['cat', 'Cat Cole', 'cat@example.com', '192.0.2.13', 'First! **Great** read.'],
  ['dan', 'Dan Dale', 'dan@example.com', '192.0.2.14', 'Could you expand on the second point?'],
  ['eve', 'Eve Evans', 'eve@example.com', '192.0.2.15', 'I disagree, and here is why.'],
  ['spammer', 'Totally Real', 'offers@spam.example', '203.0.113.5', 'Visit my site for free money'],
];

before(async () => {
  server = await startServer({ settings: '[moderation]\nmode = "all"\n' });
  moderator = await server.account('moderator', 'mod@example.com', 'Mo Moderator');
  commenter = await server.account('commenter', 'reader@example.com', 'Rita Reader');
  for (const [key, name, email, ip, body] of people) {
    const posted = await server.comment('hello-world', { name, email, body, ip });
    assert.equal(posted.status, 201, JSON.stringify(posted.body));
    ids[key] = posted.body.id;
  }
  browser = await launch();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

const statusOf = async (id) =>
  (await server.api('GET', `/api/v1/moderation/comments/${id}`, undefined, { token: moderator.token })).body.comment
    .status;

async function signIn(page, who) {
  await page.goto(`${server.origin}/admin/`);
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
}

const card = (page, id) => page.locator(`#c${id}`);

test('a commenter is refused with a clear page', { timeout: 60_000 }, async () => {
  const page = await newPage(browser);
  try {
    await signIn(page, commenter);
    await page.getByRole('heading', { name: 'Moderators only' }).waitFor();
    assert.deepEqual(await axeCheck(page), [], 'refusal page');
  } finally {
    await page.context().close();
  }
});

test('a moderator works through the queue', { timeout: 180_000 }, async (t) => {
  const page = await newPage(browser);
  const requests = recordRequests(page);
  try {
    await t.test('signs in and sees what was held, and why', async () => {
      await page.goto(`${server.origin}/admin/`);
      assert.match(page.url(), /\/admin\/login\?next=/);
      assert.deepEqual(await axeCheck(page), [], 'sign-in page');
      await screenshot(page, `console-sign-in-desktop-${server.backend}`);
      await signIn(page, moderator);
      await page.getByRole('heading', { name: 'Pending comments', level: 1 }).waitFor();
      const held = await page.locator('article.card').count();
      assert.equal(held, people.length);
      assert.equal(await page.getByText('Held because').count(), people.length);
      assert.match(await card(page, ids.cat).locator('.body').innerHTML(), /<strong>Great<\/strong>/);
      const pendingTab = page.getByRole('link', { name: /Pending/ });
      assert.match(await pendingTab.textContent(), new RegExp(`${people.length}`));
      // The full breakdown is one click away.
      await card(page, ids.ann).getByText(/what each scorer said/).click();
      assert.equal(await card(page, ids.ann).locator('details table').isVisible(), true);
      assert.deepEqual(await axeCheck(page), [], 'queue');
      await screenshot(page, `console-queue-desktop-${server.backend}`);
      // What the README shows: the first screenful.
      await page.evaluate(() => window.scrollTo(0, 0));
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, `console-readme-desktop-${server.backend}.png`) });
    });

    await t.test('approves the first comment with the keyboard; focus moves on', async () => {
      // A fresh page, the keyboard where a page leaves it. Newest first: the
      // spammer's comment leads; j moves to it, j again to Eve's.
      await page.goto(`${server.origin}/admin/`);
      await page.keyboard.press('j');
      await page.keyboard.press('j');
      assert.equal(await page.evaluate(() => document.activeElement.id), `c${ids.eve}`);
      await page.keyboard.press('a');
      await page.locator('.toast').getByText('Approved 1 comment.').waitFor();
      await card(page, ids.eve).waitFor({ state: 'detached' });
      assert.equal(await statusOf(ids.eve), 'approved');
      const thread = await server.api('GET', '/api/v1/articles/hello-world/comments');
      assert.deepEqual(thread.body.comments.map((c) => c.id), [ids.eve]);
      // Focus is on the next comment, ready for the next key.
      assert.equal(await page.evaluate(() => document.activeElement.id), `c${ids.dan}`);
    });

    await t.test('marks one as spam with its button', async () => {
      await card(page, ids.bob).getByRole('button', { name: 'Spam', exact: true }).click();
      await card(page, ids.bob).waitFor({ state: 'detached' });
      assert.equal(await statusOf(ids.bob), 'spam');
      const detail = await server.api('GET', `/api/v1/moderation/comments/${ids.bob}`, undefined, { token: moderator.token });
      assert.equal(detail.body.comment.verdict, 'spam');
    });

    await t.test('trashes three at once (shift-click selects the range), then undoes', async () => {
      await card(page, ids.dan).getByRole('checkbox').click();
      await card(page, ids.ann).getByRole('checkbox').click({ modifiers: ['Shift'] });
      assert.equal(await page.locator('input.select:checked').count(), 3);
      await page.getByRole('button', { name: 'Trash selected' }).click();
      await page.getByText('Moved 3 comments to the trash.').waitFor();
      for (const key of ['dan', 'cat', 'ann']) assert.equal(await statusOf(ids[key]), 'trash', key);
      assert.equal(await page.locator('article.card').count(), 1);

      await page.keyboard.press('z');
      await page.getByText('Undone: 3 comments are back where they were.').waitFor();
      for (const key of ['dan', 'cat', 'ann']) assert.equal(await statusOf(ids[key]), 'pending', key);
      assert.equal(await page.locator('article.card').count(), 4);
    });

    await t.test("bans the spammer's IP range; their next comment is refused", async () => {
      await card(page, ids.spammer).getByRole('link', { name: 'Commenter' }).click();
      await page.getByRole('heading', { name: 'Totally Real', level: 1 }).waitFor();
      assert.deepEqual(await axeCheck(page), [], 'commenter page');
      await page.getByRole('radio', { name: /IP address 203\.0\.113\.5/ }).check();
      await page.getByLabel(/IP address or range/).fill('203.0.113.0/24');
      await page.getByLabel('For how long').selectOption('30days');
      await page.getByLabel(/^Reason/).fill('spam run');
      await page.getByRole('button', { name: 'Ban', exact: true }).click();
      await page.getByText('Banned ip 203.0.113.0/24.').waitFor();
      const bans = await server.api('GET', '/api/v1/moderation/bans', undefined, { token: moderator.token });
      assert.equal(bans.body.bans[0].value, '203.0.113.0/24');
      assert.equal(bans.body.bans[0].active, true);
      const again = await server.comment('hello-world', {
        name: 'Totally Real',
        email: 'other@spam.example',
        body: 'New address, same offer',
        ip: '203.0.113.77',
      });
      assert.equal(again.status, 403);
      await screenshot(page, `console-commenter-desktop-${server.backend}`);
    });

    await t.test('finds every action in the audit log', async () => {
      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('heading', { name: 'Audit log', level: 1 }).waitFor();
      const shown = await page.locator('table.log tbody tr td:nth-child(3)').allTextContents();
      for (const action of ['approve', 'spam', 'trash', 'undo', 'ban']) {
        assert.ok(shown.includes(action), `${action} in ${shown}`);
      }
      const who = await page.locator('table.log tbody tr td:nth-child(2)').allTextContents();
      assert.ok(who.every((name) => name === 'Mo Moderator'), who.join(', '));
      const log = await server.api('GET', '/api/v1/moderation/log?limit=50', undefined, { token: moderator.token });
      const actions = log.body.entries.map((e) => e.action);
      for (const action of ['approve', 'spam', 'trash', 'undo', 'ban']) assert.ok(actions.includes(action), action);
      assert.ok(log.body.entries.every((e) => e.moderator_id === moderator.id));
      await page.getByLabel('Action').selectOption('ban');
      await page.getByRole('button', { name: 'Filter' }).click();
      assert.equal(await page.locator('table.log tbody tr').count(), 1);
      assert.deepEqual(await axeCheck(page), [], 'audit log');
    });

    await t.test('every other page passes axe', async () => {
      for (const name of ['Overview', 'Commenters', 'Bans']) {
        await page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name }).click();
        await page.getByRole('heading', { name, level: 1 }).waitFor();
        assert.deepEqual(await axeCheck(page), [], name);
        await screenshot(page, `console-${name.toLowerCase()}-desktop-${server.backend}`);
      }
      await page.goto(`${server.origin}/admin/comments/${ids.ann}`);
      assert.deepEqual(await axeCheck(page), [], 'comment page');
      await page.getByRole('link', { name: 'Queue', exact: true }).first().click();
      await page.getByRole('heading', { name: 'Pending comments', level: 1 }).waitFor();
      await page.keyboard.press('?');
      await page.getByRole('dialog', { name: 'Keyboard shortcuts' }).waitFor();
      assert.deepEqual(await axeCheck(page), [], 'shortcuts');
      await page.keyboard.press('Escape');
    });

    assert.deepEqual(requests.elsewhere(server.origin), [], 'nothing is loaded from elsewhere');
  } finally {
    await page.context().close();
  }
});

test('on a phone: the queue fits 360 pixels and works', { timeout: 60_000 }, async () => {
  const page = await newPage(browser, { viewport: 'phone' });
  try {
    await signIn(page, moderator);
    await page.getByRole('heading', { name: 'Pending comments', level: 1 }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
    assert.deepEqual(await axeCheck(page), [], 'queue on a phone');
    await screenshot(page, `console-queue-phone-${server.backend}`);
    await page.screenshot({ path: path.join(SCREENSHOT_DIR, `console-readme-phone-${server.backend}.png`) });
    const first = page.locator('article.card').first();
    const id = await first.getAttribute('data-id');
    await first.getByRole('button', { name: 'Approve' }).tap();
    await page.locator(`#c${id}`).waitFor({ state: 'detached' });
    assert.equal(await statusOf(Number(id)), 'approved');
  } finally {
    await page.context().close();
  }
});

test('in dark mode the queue passes axe too', { timeout: 60_000 }, async () => {
  const page = await newPage(browser, { colorScheme: 'dark' });
  try {
    await signIn(page, moderator);
    await page.getByRole('heading', { name: 'Pending comments', level: 1 }).waitFor();
    assert.deepEqual(await axeCheck(page), [], 'dark queue');
    await screenshot(page, `console-queue-dark-${server.backend}`);
  } finally {
    await page.context().close();
  }
});

test('new held comments appear in the queue without a reload', { timeout: 60_000 }, async () => {
  const page = await newPage(browser);
  try {
    await signIn(page, moderator);
    await page.getByRole('heading', { name: 'Pending comments', level: 1 }).waitFor();
    const before = await page.locator('article.card').count();
    const posted = await server.comment('hello-world', {
      name: 'Late Comer',
      email: 'late@example.com',
      body: 'Arriving while the moderator works',
      ip: '192.0.2.99',
    });
    assert.equal(posted.status, 201);
    // The page polls every 15 s while visible; showing the tab again polls
    // at once.
    await page.evaluate(() => document.dispatchEvent(new Event('visibilitychange')));
    await page.locator(`#c${posted.body.id}`).waitFor();
    assert.equal(await page.locator('article.card').count(), before + 1);
    assert.equal(await page.locator('article.card').first().getAttribute('id'), `c${posted.body.id}`);
    await page.locator('.toast').getByText('1 new held comment.').waitFor();
    assert.match(await page.getByRole('link', { name: /Pending/ }).textContent(), new RegExp(`${before + 1}`));
    assert.equal(page.url(), `${server.origin}/admin/`, 'no navigation happened');
  } finally {
    await page.context().close();
  }
});
