// How big the comment widget is, and how long it takes to draw a
// 200-comment thread in headless Chromium. A measurement, not a test: it
// prints figures and asserts nothing. docs/PERFORMANCE.md quotes it.
//
//   .ci/browser-setup.sh && cargo build --release
//   MODERATO_BIN=target/release/moderato node bench/widget.mjs [runs]
//
// The thread: 200 approved comments on one article, a third of them
// replies (some six levels deep), each a paragraph of Markdown, served as
// one page (comments.page_size = 200). Per run, a fresh page loads /demo/'s
// twin with the widget and the script reports:
//   build: the widget's own "moderato-render" measure, from the page's
//          JSON in hand to every comment in the document;
//   shown: navigation start to the first frame painted with all 200
//          comments (network on 127.0.0.1, parsing, scripts, layout);
//   with, on the way, when the script and the thread's JSON had arrived.
import { gzipSync } from 'node:zlib';
import { launch, newPage } from '../tests/browser/lib/browser.mjs';
import { startServer } from '../tests/browser/lib/server.mjs';

const runs = Number(process.argv[2] || 10);
const server = await startServer({ settings: '[comments]\npage_size = 200\n' });
try {
  for (const name of ['embed.js', 'embed.css']) {
    const bytes = Buffer.from(await (await fetch(`${server.origin}/${name}`)).arrayBuffer());
    const served = await fetch(`${server.origin}/${name}`, { headers: { 'accept-encoding': 'gzip' } });
    console.log(`${name}: ${bytes.length} bytes, ${gzipSync(bytes, { level: 9 }).length} gzip -9, `
      + `served gzipped: ${served.headers.get('content-encoding')}`);
  }
  const sizes = await Promise.all(['embed.js', 'embed.css'].map(async (name) => {
    const bytes = Buffer.from(await (await fetch(`${server.origin}/${name}`)).arrayBuffer());
    return gzipSync(bytes, { level: 9 }).length;
  }));
  console.log(`JS + CSS gzipped (-9): ${sizes[0] + sizes[1]} bytes`);

  const ids = [];
  const paragraph = 'A comment with **some** emphasis, a [link](https://example.com/a) and enough words to wrap '
    + 'over two lines on a phone, as real comments do.';
  for (let i = 0; i < 200; i += 1) {
    const replyTo = i % 3 === 2 ? ids[Math.max(0, i - 1 - (i % 7))] : undefined;
    const posted = await server.api('POST', '/api/v1/articles/moderato-demo/comments', {
      body: `${i}: ${paragraph}`,
      parent_id: replyTo,
      author: { name: `Reader ${i % 40}`, email: `reader${i % 40}@example.com` },
    }, { ip: `192.0.2.${(i % 200) + 1}` });
    if (posted.status !== 201) throw new Error(JSON.stringify(posted.body));
    ids.push(posted.body.id);
  }

  const browser = await launch();
  const builds = [];
  const shown = [];
  const scripts = [];
  const threads = [];
  try {
    for (let run = 0; run < runs; run += 1) {
      const page = await newPage(browser);
      await page.goto(`${server.origin}/demo/`);
      await page.waitForFunction(() => document.querySelectorAll('.mo-comment').length === 200, null, { timeout: 30_000 });
      const figures = await page.evaluate(() => new Promise((resolve) => {
        requestAnimationFrame(() => requestAnimationFrame(() => {
          const measure = performance.getEntriesByName('moderato-render').pop();
          const ended = (part) => performance.getEntriesByType('resource')
            .find((r) => r.name.includes(part)).responseEnd;
          resolve({
            build: measure.duration,
            shown: performance.now(),
            script: ended('/embed.js'),
            thread: ended('/comments?'),
          });
        }));
      }));
      builds.push(figures.build);
      shown.push(figures.shown);
      scripts.push(figures.script);
      threads.push(figures.thread);
      await page.context().close();
    }
  } finally {
    await browser.close();
  }
  const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  const fmt = (xs) => `median ${median(xs).toFixed(1)} ms, min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)}`;
  console.log(`200 comments, ${runs} runs`);
  console.log(`  build (JSON to DOM): ${fmt(builds)}`);
  console.log(`  script in hand (navigation to embed.js loaded): ${fmt(scripts)}`);
  console.log(`  thread in hand (navigation to the page's JSON loaded): ${fmt(threads)}`);
  console.log(`  shown (navigation to painted): ${fmt(shown)}`);
} finally {
  await server.stop();
}
