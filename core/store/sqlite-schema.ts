/**
 * The SQLite store's schema, one migration per `user_version`. A migration only ever appends: a file
 * written by this version opens with every later one. A file from a newer wxengine is refused on open.
 *
 * Tables whose key is the whole lookup are WITHOUT ROWID (one B-tree instead of table + index).
 * `rule_hits.keyword` is '' for "no keyword": NULLs are distinct in a primary key, so an UPSERT on a
 * nullable column would insert a new row on every hit.
 */
export const SCHEMA_MIGRATIONS: readonly string[] = [
  // user_version 0 -> 1
  `
  CREATE TABLE sessions (
    account    TEXT NOT NULL,
    open_id    TEXT NOT NULL,
    plugin     TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (account, open_id)
  ) WITHOUT ROWID;
  CREATE INDEX sessions_expires ON sessions (expires_at);

  CREATE TABLE dedup (
    key        TEXT PRIMARY KEY,
    state      TEXT NOT NULL CHECK (state IN ('pending', 'done')),
    reply      TEXT,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;
  -- Written only by close() (the live reply cache) and read and emptied by the next open: no index needed.

  CREATE TABLE kv (
    namespace  TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    expires_at INTEGER,
    PRIMARY KEY (namespace, key)
  ) WITHOUT ROWID;
  CREATE INDEX kv_expires ON kv (expires_at) WHERE expires_at IS NOT NULL;

  CREATE TABLE tokens (
    app_id     TEXT PRIMARY KEY,
    token      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE locks (
    name       TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE message_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    account    TEXT NOT NULL,
    open_id    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    msg_key    TEXT NOT NULL,
    handled_by TEXT NOT NULL,
    rule       TEXT,
    keyword    TEXT,
    plugin     TEXT,
    reply_type TEXT,
    summary    TEXT,
    latency_ms REAL NOT NULL,
    outcome    TEXT NOT NULL,
    error      TEXT
  );
  CREATE INDEX message_log_at ON message_log (at);
  CREATE INDEX message_log_user_at ON message_log (account, open_id, at);

  CREATE TABLE rule_hits (
    account TEXT NOT NULL,
    rule    TEXT NOT NULL,
    keyword TEXT NOT NULL,
    hits    INTEGER NOT NULL,
    PRIMARY KEY (account, rule, keyword)
  ) WITHOUT ROWID;

  CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    account    TEXT NOT NULL,
    open_id    TEXT NOT NULL,
    reply      TEXT NOT NULL,
    attempts   INTEGER NOT NULL,
    status     TEXT NOT NULL,
    last_error TEXT,
    at         INTEGER NOT NULL
  );
  CREATE INDEX outbox_status ON outbox (status, id);
  `,
  // user_version 1 -> 2: the message log's journal files (sqlite-log-journal.cjs), each with how far it is
  // in message_log. `pid` is the writing process, so a store opened alongside it leaves its journal alone.
  `
  CREATE TABLE log_journals (
    name      TEXT PRIMARY KEY,
    pid       INTEGER NOT NULL,
    committed INTEGER NOT NULL
  ) WITHOUT ROWID;
  `,
  // user_version 2 -> 3: no per-user index on the message log. Entries arrive in time order but users in no
  // order, so every entry dirtied its own page of that index in every commit: it was three quarters of the
  // log writer's CPU (13–15 against 3.4 µs an entry, bench/log-path.bench.ts) and cut throughput by a fifth.
  // A query for one user walks message_log_at newest-first and stops at its limit (a million entries in
  // 0.2 s when the user has fewer than the limit; --since bounds it).
  `
  DROP INDEX IF EXISTS message_log_user_at;
  `,
]

export const SCHEMA_VERSION = SCHEMA_MIGRATIONS.length
