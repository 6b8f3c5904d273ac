/** Asset keys shared by the build (core/binary/build-binary.ts) and the binary's start-up. */
export const PLUGIN_WORKER_ASSET = 'plugin-worker.cjs'
/** The rules parser's worker program (core/route/rules/parse-worker-main.ts, bundled). */
export const RULES_WORKER_ASSET = 'rules-worker.cjs'
/** better-sqlite3's native addon, written out by core/binary/native-addon.ts. */
export const SQLITE_ADDON_ASSET = 'better_sqlite3.node'
/** The message-log writer thread's program (core/store/sqlite-log-worker.cjs, bundled with better-sqlite3). */
export const LOG_WORKER_ASSET = 'sqlite-log-worker.cjs'
/** Declaration files for `wxengine init` (core/binary/build-types.ts): one JSON of path -> content. */
export const TYPES_ASSET = 'types.json'
/** The user docs `wxengine init` writes into .wxengine/docs (core/binary/project-docs.ts): one JSON of page -> content. */
export const DOCS_ASSET = 'docs.json'
