/**
 * What every command needs first: the project's configuration, or a message saying what to fix.
 * Exit codes for all commands: 0 ok, 1 the thing checked failed, 2 usage or configuration error.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import stringWidth from 'string-width'
import type { AccountConfig, EngineConfig, UserConfig } from '../config/config-types.ts'
import { findConfigFile, loadConfig } from '../config/load-config.ts'
import { unknownAccount } from '../config/unknown-account.ts'
import { shownPath } from '../shown-path.ts'
import { printable } from '../shown-text.ts'

export const EXIT_OK = 0
export const EXIT_FAILED = 1
export const EXIT_USAGE = 2

export interface GlobalFlags {
  root: string
  config?: string
}

/**
 * `wxengine log | head`: once the reader has gone, stop quietly with the exit code so far, as Unix tools do,
 * instead of an unhandled EPIPE with a stack trace. Any other stdout error still surfaces.
 */
export function exitQuietlyWhenStdoutCloses(): void {
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit()
    throw e
  })
}

/** Where a command writes; tests and commands share one shape. */
export interface Output {
  out(line: string): void
  err(line: string): void
}

/** `2026-05-08 08:00:12`: a time in UTC to the second, as `log` lists messages and `qrcode create` says when a code expires. */
export function utcDateTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ')
}

/**
 * The columns `text` takes on a terminal, as string-width measures it: a Chinese character (and a full-width
 * （）) two, an emoji two, a combining mark none. Not `.length`, which counts UTF-16 units.
 */
export function displayWidth(text: string): number {
  return stringWidth(text)
}

/** `text` padded with spaces to `width` terminal columns: on the left ('start', for counts) or on the right. */
export function padDisplay(text: string, width: number, side: 'start' | 'end'): string {
  const pad = ' '.repeat(Math.max(0, width - displayWidth(text)))
  return side === 'start' ? pad + text : text + pad
}

/**
 * A table as `stats`, `followers` and `mass tags` print it: each column as wide as its widest cell on a
 * terminal (displayWidth: Chinese tag names and scenes line up), two spaces between, the columns in
 * `rightAligned` (counts) padded on the left, no trailing spaces.
 */
export function tableLines(rows: readonly (readonly string[])[], rightAligned: ReadonlySet<number>): string[] {
  // Cells can be others' text (a stored key, a tag's name, a keyword): control characters are shown escaped.
  const shown = rows.map((r) => r.map(printable))
  const widths = shown[0].map((_, i) => Math.max(...shown.map((r) => displayWidth(r[i]))))
  return shown.map((r) => r.map((c, i) => padDisplay(c, widths[i], rightAligned.has(i) ? 'start' : 'end')).join('  ').trimEnd())
}

export const stdio: Output = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
}

export function loadProjectConfig(flags: GlobalFlags, io: Output, overrides?: UserConfig): EngineConfig | undefined {
  const loaded = loadConfig({ root: flags.root, file: flags.config, overrides })
  if (loaded.ok) return loaded.value
  for (const line of configFailureLines(flags, loaded.error.reason)) io.err(line)
  return undefined
}

/**
 * A configuration that did not load, as the lines to print: the reason, then what to do. With no
 * engine.config.ts in the folder, that comes first: the reason is then only that the environment alone is
 * not a configuration ("accounts: needs at least one account"), which sent a newcomer in plugins/ looking
 * for a setting.
 */
export function configFailureLines(flags: GlobalFlags, reason: string): string[] {
  const hint = configFailureHint(flags, reason)
  const reasonLine = `wxengine: ${reason}`
  if (hint === undefined) return [reasonLine]
  return hint.noConfigFile ? [`wxengine: ${hint.text}`, `With the environment alone: ${reason}`] : [reasonLine, hint.text]
}

/**
 * The project's configuration and the account a command works on (`--account`, else the default one); else
 * undefined, after saying why. For the commands that call an account's API (`menu`, `qrcode create`, `mass`).
 */
export function loadProjectAccount(flags: GlobalFlags & { account?: string }, command: string, io: Output): { config: EngineConfig; account: AccountConfig } | undefined {
  const config = loadProjectConfig(flags, io)
  if (!config) return undefined
  const account = accountNamed(config.accounts, flags.account ?? config.defaultAccount, command, io)
  return account ? { config, account } : undefined
}

/**
 * The configured account of that id (an --account, or the one a --url names); else undefined, after saying
 * so with the ones there are and the one it resembles. Every command words it alike (send and log did not).
 */
export function accountNamed<A extends { id: string }>(accounts: readonly A[], id: string, command: string, io: Output): A | undefined {
  const account = accounts.find((a) => a.id === id)
  if (!account) {
    io.err(`wxengine ${command}: ${unknownAccount(id, accounts.map((a) => a.id))}`)
  }
  return account
}

/** What to do about a configuration that did not load; `noConfigFile` when the folder has no engine.config.ts. */
function configFailureHint(flags: GlobalFlags, reason: string): { text: string; noConfigFile: boolean } | undefined {
  const root = path.resolve(flags.root)
  // A file that does not run (a syntax error, a throw) says where; a setting, which one. A file the
  // configuration imports may be the one named (accounts.ts:3:5): "fix engine.config.ts" sent the author
  // to a file that had nothing wrong in it.
  const fix = (name: string) => {
    const setting = reason.startsWith('invalid configuration')
    const lines = setting ? reason.split('\n').slice(1).map((l) => l.trim()) : [reason]
    const imported = lines.some((l) => { const named = namedFile(l); return named !== undefined && path.basename(named) !== path.basename(name) })
    if (setting) return `Fix the setting in ${name}${imported ? ', or in the file named before it,' : ''} or the environment variable named above.`
    return imported ? `Fix the file named above, which ${name} imports.` : `Fix ${name} where it says above.`
  }
  if (flags.config) {
    // Named with -c: its own name, and nothing to add when it is not there (the reason says so).
    return existsSync(path.resolve(root, flags.config)) ? { text: fix(flags.config), noConfigFile: false } : undefined
  }
  // Most often the wrong folder: say so rather than only which setting is missing.
  const file = findConfigFile(root)
  if (!file) {
    // Run from inside a project (plugins/weather): the project above is most likely the one meant.
    const above = projectAbove(root)
    const where = above === undefined ? 'run this in the project\'s folder, or point at it with -C <dir>' : `the project is ${shownPath(above)}: run this there, or point at it with -C ${shownPath(above)}`
    return { text: `There is no engine.config.ts in ${shownPath(root)}${existsSync(root) ? '' : ' (the folder does not exist)'}: ${where}; or set WECHAT_TOKEN and WECHAT_APPID.`, noConfigFile: true }
  }
  return { text: fix(path.basename(file)), noConfigFile: false }
}

/** The nearest folder above `dir` with an engine.config.ts, if any. */
function projectAbove(dir: string): string | undefined {
  for (let at = path.dirname(dir); ; at = path.dirname(at)) {
    if (findConfigFile(at)) return at
    if (path.dirname(at) === at) return undefined
  }
}

/** The file a problem starts with (`accounts.ts:3:5: ...`, `shared/x.json: ...`): a name ending in a configuration file's extension. */
function namedFile(problem: string): string | undefined {
  return /^(\S[^:]*?\.(?:[mc]?[jt]s|json))(?::\d+){0,2}: /.exec(problem)?.[1]
}

export { shownPath }
