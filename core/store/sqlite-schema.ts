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
  // user_version 3 -> 4: who follows, and through which QR scene (`wxengine followers`). One row per user,
  // kept from the message log's subscribe and unsubscribe entries in the transaction that writes them
  // (sqlite-log-batch.cjs), so nothing is added to a message's path. Pruning the log left it whole (as
  // rule_hits) until user_version 5, which folds the rows of users who left into follower_days (below).
  // Empty at the upgrade: follows before it, or while the log is off, are not in it.
  // - following: 1 after a follow, 0 after an unfollow. A user seen only unfollowing (who followed before
  //   the engine logged) has a row with following 0 and no follow times: the unfollow is a fact too.
  // - first_followed_at: the first follow seen; followed_at: the latest; unfollowed_at: the latest
  //   unfollow, NULL while following.
  // - scene: the latest follow's QR scene (EventKey without qrscene_), '' for none: NOT NULL, so a query
  //   grouping by it needs no NULL case (as rule_hits.keyword).
  // follow_events: the message keys of the follows and unfollows applied, so each applies once. A message
  // answered late has two or three entries (the one at the budget, then how it ended; the user may have
  // unfollowed in between), and its follow happened once, at the first. It also makes writing the same
  // entries again change nothing. Pruned with the log (`at` is the entry's): a message's later entries come
  // minutes after its first, not days.
  `
  CREATE TABLE followers (
    account           TEXT NOT NULL,
    open_id           TEXT NOT NULL,
    following         INTEGER NOT NULL CHECK (following IN (0, 1)),
    first_followed_at INTEGER,
    followed_at       INTEGER,
    unfollowed_at     INTEGER,
    scene             TEXT NOT NULL,
    PRIMARY KEY (account, open_id)
  ) WITHOUT ROWID;

  CREATE TABLE follow_events (
    msg_key TEXT PRIMARY KEY,
    at      INTEGER NOT NULL
  ) WITHOUT ROWID;
  CREATE INDEX follow_events_at ON follow_events (at);
  `,
  // user_version 4 -> 5: the users who left, counted without their OpenIDs. A followers row kept the OpenID
  // of everyone who ever unfollowed, for good. Now each prune (the log's retention, or at once with
  // log.purgeOnUnsubscribe or the log off) folds the rows with following 0 and unfollowed_at before its
  // cut into these counts and deletes them, in one IMMEDIATE transaction with the same condition, so an
  // unfollow the log thread commits meanwhile is neither counted without its row going nor lost. Rows of
  // users still following stay: they are the current followers, not history.
  // - per account, scene and UTC day (day: the first ms of it): the day of the user's latest follow, the
  //   time `wxengine followers --since` selects a row by, or of the unfollow for a user never seen
  //   following. --since takes a folded day whole when it is the day of `since` or later.
  // - unknown: 1 for those users (followed_at NULL: followers() shows them under scene null), scene ''
  //   then. A flag, not a NULL scene: NULLs are distinct in a primary key, so every fold would add a row.
  // - followed: the folded users who had a follow (all but the unknown ones); unfollowed: all of them.
  //   None still follows, by construction.
  // A folded user who follows again is a new follower: nothing says who they were.
  // followers_unfollowed: the fold's condition, so an hourly prune reads the few users who left since the
  // last one, not every follower (the prune runs on the serving thread).
  `
  CREATE TABLE follower_days (
    account    TEXT NOT NULL,
    unknown    INTEGER NOT NULL CHECK (unknown IN (0, 1)),
    scene      TEXT NOT NULL,
    day        INTEGER NOT NULL,
    followed   INTEGER NOT NULL,
    unfollowed INTEGER NOT NULL,
    PRIMARY KEY (account, unknown, scene, day)
  ) WITHOUT ROWID;

  CREATE INDEX followers_unfollowed ON followers (unfollowed_at) WHERE following = 0;
  `,
  // user_version 5 -> 6: the message a late reply answers (its msgKey), so that a send taken up after a
  // restart names it in its lines and events as the send did before. NULL for entries written before.
  `
  ALTER TABLE outbox ADD COLUMN msg_key TEXT;
  `,
]

export const SCHEMA_VERSION = SCHEMA_MIGRATIONS.length
