/**
 * What a reload takes from the configuration read again: each account's userGroups and pageDomains, and the
 * plugins section. They belong to a generation (the rules' `users:` are checked against the groups, the
 * router looks senders up in them, plugins load with their settings, login links and the web endpoints check
 * pages against the domains), so they change with rules/ and plugins/, message by message.
 * The rest is built into the running engine at start (the listening sockets, the accounts' ciphers, the
 * store, the limits, the logger...): a change there is named by path, for a restart to apply. Names only,
 * never values: a token, an AppSecret or a key is a secret, and the line goes to the journal.
 */
import { statSync } from 'node:fs'
import { accountWarnings, publicUrlWarning } from '../config/account-warnings.ts'
import { isStoppedRead } from '../config/read-config-file.ts'
import { settingPath } from '../config/config-schema.ts'
import type { AccountConfig, EngineConfig } from '../config/config-types.ts'
import type { Result } from '../errors.ts'
import { shownPath } from '../shown-path.ts'

/** How a served engine reads its configuration again: as its start read it (core/cli/commands/start.ts). */
export interface ConfigSource {
  /** The file read (engine.config.ts, or `-c`'s), if any: named in the restart warning, and watched with rules/ under `watch: true`. */
  file?: string
  read(): Result<EngineConfig>
  /** The project's files it imports (read-config-file.ts), as the last read found them: watched with it. */
  imported?: () => readonly string[]
}

export type ConfigForReload =
  | {
      ok: true
      /** The running configuration with the new userGroups, pageDomains and plugins: what the next generation loads from. */
      config: EngineConfig
      /**
       * Lines for the reload to log: the settings that changed but wait for a restart (one line naming them),
       * and what the start warns of the settings a reload applies (an empty user group, pageDomains without an
       * appSecret, a publicUrl no login can come back to), said again as the rules files' warnings are.
       */
      warnings: string[]
    }
  | { ok: false; problems: string[] }

export function configForReload(running: EngineConfig, source: ConfigSource): ConfigForReload {
  const read = source.read()
  // Said as the start says it (`engine.config.ts:3:5: SyntaxError: ...`, `accounts[0].userGroups.admins[0]: ...`).
  if (!read.ok) return { ok: false, problems: read.error.reason.split('\n').map((l) => l.trim()).filter(Boolean) }
  const { config, needRestart } = pickReloadable(running, read.value)
  const where = source.file ? shownPath(source.file) : 'the configuration'
  const warnings = needRestart.length > 0 ? [`${needRestart.join(', ')}: changed in ${where}; a restart applies them`] : []
  for (const w of accountWarnings(config.accounts)) if (RELOADED_ACCOUNT_SETTINGS.has(w.setting)) warnings.push(w.message)
  const unreachable = publicUrlWarning(config)
  if (unreachable) warnings.push(unreachable)
  return { ok: true, config, warnings }
}

/** The account settings a reload takes from the file read again (pickReloadable); the others wait for a restart. */
const RELOADED_ACCOUNT_SETTINGS: ReadonlySet<string> = new Set(['userGroups', 'pageDomains'] satisfies Array<keyof AccountConfig>)

/**
 * The running configuration with `reread`'s userGroups and pageDomains (by account id) and plugins, and the
 * paths of every other setting that differs (`accounts[0].token`, `port`), compared as data.
 */
export function pickReloadable(running: EngineConfig, reread: EngineConfig): { config: EngineConfig; needRestart: string[] } {
  const rereadById = new Map(reread.accounts.map((a) => [a.id, a]))
  const accounts = running.accounts.map((a) => {
    // An account the file no longer has is served until the restart: with the settings it had.
    const again = rereadById.get(a.id)
    if (!again) return a
    const next = withoutReloadable(a)
    if (again.userGroups !== undefined) next.userGroups = again.userGroups
    if (again.pageDomains !== undefined) next.pageDomains = again.pageDomains
    return next
  })
  return { config: { ...running, accounts, plugins: reread.plugins }, needRestart: changedPaths(restartOnly(running), restartOnly(reread)) }
}

/** An account without the settings a reload applies (RELOADED_ACCOUNT_SETTINGS; the others are built into the running engine). */
function withoutReloadable(a: AccountConfig): AccountConfig {
  const { userGroups: _g, pageDomains: _p, ...rest } = a
  return rest
}

function restartOnly(c: EngineConfig): unknown {
  const { plugins: _, ...rest } = c
  return { ...rest, accounts: c.accounts.map(withoutReloadable) }
}

/**
 * Where `a` and `b` differ: each leaf, or a list whose length changed (an account added or removed: the
 * indexes after it would all differ). A key set to undefined is a key left out.
 */
function changedPaths(a: unknown, b: unknown, at: PropertyKey[] = [], out: string[] = []): string[] {
  if (Object.is(a, b)) return out
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) out.push(settingPath(at))
    else for (let i = 0; i < a.length; i++) changedPaths(a[i], b[i], [...at, i], out)
    return out
  }
  if (isRecord(a) && isRecord(b)) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) changedPaths(a[key], b[key], [...at, key], out)
    return out
  }
  out.push(settingPath(at))
  return out
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * `read` for reloads, but a configuration stopped at its deadline is not run again while none of its files
 * changed: the same refusal at once. Each run holds the serving thread (and every message) for the whole
 * deadline, and every reload runs it, a save of a rules file or a plugin included: a loop left in the file
 * held messages again at each. `files` are the file and the project's files it imports, as the last read
 * found them; a file of them changed (or gone) runs it again.
 */
export function notRunAgainWhileStuck<T>(read: () => Result<T>, files: () => readonly string[]): () => Result<T> {
  let stuck: { stamp: string; result: Result<T> } | undefined
  return () => {
    if (stuck && stuck.stamp === stampOf(files())) {
      const { result } = stuck
      return result.ok ? result : { ok: false, error: { ...result.error, reason: `${result.error.reason} (not run again: its files are unchanged since)` } }
    }
    // Stamped before it runs: a save while it runs (a fix, likely under `wxengine dev`) must run again. The
    // first stopped read may find more files than the last read did: it runs once more to stamp them all.
    const before = files()
    const stamp = stampOf(before)
    const result = read()
    const same = files().join('\n') === before.join('\n')
    stuck = !result.ok && isStoppedRead(result.error.reason) && same ? { stamp, result } : undefined
    return result
  }
}

/** The files' sizes and modification times: what a save changes. */
function stampOf(files: readonly string[]): string {
  return files
    .map((f) => {
      try {
        const s = statSync(f)
        return `${f}\0${s.size}\0${s.mtimeMs}`
      } catch {
        return `${f}\0gone`
      }
    })
    .join('\n')
}
