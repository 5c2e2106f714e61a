// The real moderato binary for browser tests: a fresh database (a temporary
// SQLite file, or a fresh PostgreSQL schema when MODERATO_BROWSER_PG is a
// database URL), accounts made with the CLI, the server on 127.0.0.1 port 0,
// and small helpers to call its JSON API from the test.
//
//   const server = await startServer({ settings: '[moderation]\nmode = "all"\n' });
//   const mod = await server.account('moderator', 'mod@example.com');
//   await server.api('POST', '/api/v1/articles/a/comments', { body: ... });
//   const raw = await server.fetch('/isso/?uri=/a/');   // a plain Response
//   await server.stop();
//
// Environment:
//   MODERATO_BIN         the binary (default target/debug/moderato, or
//                        $CARGO_TARGET_DIR/debug/moderato)
//   MODERATO_BROWSER_PG  e.g. postgres://postgres@127.0.0.1:5432/test
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..', '..');
export const BINARY =
  process.env.MODERATO_BIN ||
  path.join(process.env.CARGO_TARGET_DIR || path.join(root, 'target'), 'debug', 'moderato');

const PASSWORD = 'correct horse battery staple';

/** A fresh database: its URL and how to remove it. */
function freshDatabase(dir) {
  const pg = process.env.MODERATO_BROWSER_PG;
  if (!pg) {
    return { url: `sqlite://${path.join(dir, 'moderato.db')}`, drop() {}, backend: 'sqlite' };
  }
  const schema = `browser_${process.pid}_${Date.now()}`;
  const psql = (sql) => execFileSync('psql', [pg, '-v', 'ON_ERROR_STOP=1', '-qc', sql], { stdio: 'pipe' });
  psql('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public');
  psql(`CREATE SCHEMA ${schema}`);
  const separator = pg.includes('?') ? '&' : '?';
  return {
    url: `${pg}${separator}options=-csearch_path%3D${schema}`,
    drop() {
      psql(`SET lock_timeout = '5s'; DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    },
    backend: 'postgres',
  };
}

/**
 * `extra` laid over `base`, both TOML of `[table]` headers and one-line
 * `key = value` pairs: a key `extra` sets replaces the base's, in the same
 * table (TOML itself refuses a table or key given twice).
 */
export function mergeToml(base, extra) {
  const tables = new Map();
  for (const text of [base, extra]) {
    let table = '';
    for (const line of text.split('\n')) {
      if (line.trim().startsWith('[[')) throw new Error(`mergeToml takes no arrays of tables: ${line}`);
      const header = line.match(/^\s*\[([^\]]+)\]\s*$/);
      if (header) {
        table = header[1].trim();
      } else if (line.trim() && !line.trim().startsWith('#')) {
        const key = line.split('=')[0].trim();
        if (!tables.has(table)) tables.set(table, new Map());
        tables.get(table).set(key, line);
      }
    }
  }
  return [...tables]
    .map(([table, pairs]) => `${table ? `[${table}]\n` : ''}${[...pairs.values()].join('\n')}\n`)
    .join('');
}

/**
 * Starts moderato with `settings` (TOML, laid over settings that let a test
 * post freely: no flood interval, no rate limits, the test's own address
 * trusted as a proxy so X-Forwarded-For picks the commenter's address).
 */
export async function startServer({ settings = '' } = {}) {
  if (!fs.existsSync(BINARY)) {
    throw new Error(`${BINARY} not found: run cargo build first (or set MODERATO_BIN)`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'moderato-browser-'));
  const db = freshDatabase(dir);
  const config = path.join(dir, 'test.toml');
  fs.writeFileSync(
    config,
    mergeToml(
      `[server]
trusted_proxies = ["127.0.0.1/32"]
workers = 2
[log]
level = "warn"
[guards]
flood_interval = "0s"
duplicate_window = "0s"
[comments.rate_limit]
per_ip = 0
per_account = 0
[auth.login_limit]
per_ip = 0
`,
      settings,
    ),
  );
  const args = ['--config', config, '--database', db.url];
  const child = spawn(BINARY, ['serve', '--bind', '127.0.0.1:0', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  let log = '';
  child.stderr.on('data', (chunk) => (log += chunk));
  const cleanUp = () => {
    try {
      db.drop();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
  let origin;
  try {
    origin = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`moderato did not start:\n${log}`)), 60_000);
      child.stdout.on('data', (chunk) => {
        out += chunk;
        const found = out.match(/listening on (http:\/\/\S+)/);
        if (found) {
          clearTimeout(timer);
          resolve(found[1]);
        }
      });
      child.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`moderato exited with ${code}:\n${log}`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    cleanUp();
    throw error;
  }

  const server = {
    origin,
    backend: db.backend,
    databaseUrl: db.url,
    /** Everything the server logged to stderr so far. */
    log: () => log,

    /** Creates an account with the CLI and signs it in; returns { email, password, token, id }. */
    async account(role, email, name = email.split('@')[0]) {
      execFileSync(BINARY, ['user', 'create', '--email', email, '--name', name, '--role', role, '--password-stdin', ...args], {
        input: `${PASSWORD}\n`,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      const session = await server.api('POST', '/api/v1/auth/login', { email, password: PASSWORD });
      return { email, name, password: PASSWORD, token: session.body.token, id: session.body.user.id };
    },

    /** Calls the JSON API; returns { status, body }. */
    async api(method, apiPath, body, { token, ip } = {}) {
      const headers = { accept: 'application/json' };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (token) headers.authorization = `Bearer ${token}`;
      if (ip) headers['x-forwarded-for'] = ip;
      const response = await fetch(origin + apiPath, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const text = await response.text();
      return { status: response.status, body: text ? JSON.parse(text) : null };
    },

    /** fetch() against the server, for answers that are not the JSON API's; `pathname` starts with /. */
    fetch: (pathname, init) => fetch(origin + pathname, init),

    /** Posts a guest comment from `ip`; returns { status, body }. */
    comment(article, { name, email, body, ip = '192.0.2.10' }) {
      return server.api('POST', `/api/v1/articles/${article}/comments`, { body, author: { name, email } }, { ip });
    },

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
  return server;
}
