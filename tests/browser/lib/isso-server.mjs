// Starts the real moderato binary for the browser tests of its Isso API:
// `moderato serve --bind 127.0.0.1:0` on a fresh SQLite file in a temporary
// folder, or on a fresh schema of the PostgreSQL database named by
// MODERATO_BROWSER_PG (a postgres:// URL; the schema is made and dropped
// with psql), with the settings given as TOML.
//
//   import { startModerato } from './lib/isso-server.mjs';
//   const moderato = await startModerato({ settings: '[isso]\nvote = true\n' });
//   ... moderato.origin (http://127.0.0.1:PORT), moderato.api('/api/v1/...')
//   await moderato.stop();
//
// Environment:
//   MODERATO_BIN         the binary (default target/debug/moderato, or
//                        $CARGO_TARGET_DIR/debug/moderato)
//   MODERATO_BROWSER_PG  run on PostgreSQL instead of SQLite
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

export const MODERATO_BIN =
  process.env.MODERATO_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(repo, 'target'), 'debug', 'moderato');

/** A database of the run's own: its URL, and how to remove it. */
function freshDatabase(dir) {
  const pg = process.env.MODERATO_BROWSER_PG;
  if (!pg) {
    return { url: `sqlite://${path.join(dir, 'moderato.db')}`, drop() {} };
  }
  const schema = `browser_${process.pid}_${Date.now().toString(36)}`;
  const psql = (sql) => execFileSync('psql', [pg, '-v', 'ON_ERROR_STOP=1', '-q', '-c', sql], { stdio: 'pipe' });
  // pg_trgm goes to public once, as the Rust tests do: made in a test's
  // own schema, it would be dropped with it.
  psql('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public');
  psql(`CREATE SCHEMA ${schema}`);
  const separator = pg.includes('?') ? '&' : '?';
  return {
    url: `${pg}${separator}options=-csearch_path%3D${schema}`,
    drop() {
      psql(`SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
  };
}

/**
 * Starts the server and resolves once it prints `listening on http://...`.
 *
 * options.settings: TOML appended to the test's base settings (which turn
 *   the flood guard and rate limits off: every request comes from 127.0.0.1).
 * options.timeoutMs: how long to wait for it to listen (default 30 s).
 *
 * Returns { origin, databaseUrl, log(), api(path, init), stop() }.
 */
export async function startModerato(options = {}) {
  const { settings = '', timeoutMs = 30_000 } = options;
  if (!fs.existsSync(MODERATO_BIN)) {
    throw new Error(`${MODERATO_BIN} not found: run cargo build first (or set MODERATO_BIN)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moderato-browser-'));
  const database = freshDatabase(dir);
  const config = path.join(dir, 'moderato.toml');
  fs.writeFileSync(
    config,
    `[log]\nlevel = "warn"\n[guards]\nflood_interval = "0s"\n` +
      `[comments.rate_limit]\nper_ip = 0\nper_account = 0\n${settings}`,
  );
  const child = spawn(
    MODERATO_BIN,
    ['serve', '--bind', '127.0.0.1:0', '--config', config, '--database', database.url],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const cleanUp = () => {
    try {
      database.drop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };

  let origin;
  try {
    origin = await new Promise((resolve, reject) => {
      let stdout = '';
      const timer = setTimeout(() => reject(new Error(`moderato did not listen within ${timeoutMs} ms:\n${stderr}`)), timeoutMs);
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        const found = stdout.match(/listening on (http:\/\/\S+)/);
        if (found) {
          clearTimeout(timer);
          resolve(found[1]);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`moderato exited with ${code} before listening:\n${stderr}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    cleanUp();
    throw error;
  }

  return {
    origin,
    databaseUrl: database.url,
    /** What the server wrote to stderr so far. */
    log: () => stderr,
    /** fetch() against the server; `path` starts with /. */
    api: (pathname, init) => fetch(`${origin}${pathname}`, init),
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      cleanUp();
    },
  };
}
