/**
 * What a plugin folder holds before anything of it runs: the entry file, the optional plugin.json
 * manifest, and the config checked against the manifest's schema.
 */
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { Ajv } from 'ajv'
import { didYouMean } from '../did-you-mean.ts'
import { shownPath } from '../shown-path.ts'
import { fail, ok, type Result } from '../errors.ts'
import { isDeadlineError, underDeadline } from '../under-deadline.ts'
import type { JsonValue } from './plugin-api.ts'
import type { PluginManifest } from './plugin-host-types.ts'

export interface PluginFolder {
  name: string
  dir: string
  entry: string
  manifest: PluginManifest
  /** After schema defaults are applied. */
  config: Record<string, JsonValue>
}

const ENTRY_FILES = ['index.ts', 'index.js']

/** The plugin folder's entry file's name (index.ts, else index.js), or undefined: no plugin is there. */
export function entryFileOf(dir: string): string | undefined {
  return ENTRY_FILES.find((f) => existsSync(join(dir, f)))
}

/**
 * How long checking a plugin's config against its configSchema may take. It runs on the serving thread, at
 * start and at every reload, and a `pattern` that backtracks (`(a+)+$`) held it for a minute on a 30-character
 * value (a review of bad input): every account unanswered meanwhile, and the other plugins of the reload
 * blamed for not loading in time. A check takes microseconds; past this it is stopped and the plugin refused.
 */
export const CONFIG_SCHEMA_DEADLINE_MS = 2_000

export interface ReadPluginFolderOptions {
  /** Default CONFIG_SCHEMA_DEADLINE_MS; tests shorten it. */
  schemaDeadlineMs?: number
}

export function readPluginFolder(dir: string, name: string, config: Record<string, JsonValue> | undefined, opts: ReadPluginFolderOptions = {}): Result<PluginFolder> {
  const entryName = entryFileOf(dir)
  if (!entryName) return fail('PLUGIN_LOAD', `plugin ${name}: no ${ENTRY_FILES.join(' or ')} in ${dir}`)
  const manifest = readManifest(dir, name)
  if (!manifest.ok) return manifest
  const checked = checkConfigInTime(dir, name, manifest.value, config ?? {}, opts.schemaDeadlineMs ?? CONFIG_SCHEMA_DEADLINE_MS)
  if (!checked.ok) return checked
  return ok({ name, dir, entry: join(dir, entryName), manifest: manifest.value, config: checked.value })
}

function readManifest(dir: string, name: string): Result<PluginManifest> {
  const file = join(dir, 'plugin.json')
  if (!existsSync(file)) return ok({ name })
  let parsed: unknown
  const text = readFileSync(file, 'utf8')
  try {
    parsed = JSON.parse(text)
  } catch (e) {
    return fail('PLUGIN_LOAD', `plugin ${name}: ${jsonErrorAt(join(dir, 'plugin.json'), text, e)}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return fail('PLUGIN_LOAD', `plugin ${name}: plugin.json must be an object`)
  }
  const m = parsed as Record<string, unknown>
  const problem = manifestProblem(m, name)
  if (problem) return fail('PLUGIN_LOAD', `plugin ${name}: plugin.json: ${problem}`)
  return ok(m as unknown as PluginManifest)
}

function manifestProblem(m: Record<string, unknown>, folder: string): string | undefined {
  if (m.name !== undefined && m.name !== folder) return `name ${JSON.stringify(m.name)} differs from the folder name ${JSON.stringify(folder)}`
  if (m.name === undefined) m.name = folder
  for (const key of ['version', 'description'] as const) {
    if (m[key] !== undefined && typeof m[key] !== 'string') return `${key} must be a string`
  }
  if (m.accepts !== undefined && !(Array.isArray(m.accepts) && m.accepts.every((k) => typeof k === 'string'))) {
    return 'accepts must be an array of message kinds'
  }
  if (m.configSchema !== undefined && (typeof m.configSchema !== 'object' || m.configSchema === null || Array.isArray(m.configSchema))) {
    return 'configSchema must be a JSON Schema object'
  }
  return undefined
}

function checkConfigInTime(dir: string, name: string, manifest: PluginManifest, config: Record<string, JsonValue>, deadlineMs: number): Result<Record<string, JsonValue>> {
  const schema = manifest.configSchema
  if (!schema) return ok(config)
  try {
    return underDeadline(() => checkConfig(name, schema, config), deadlineMs)
  } catch (e) {
    if (!isDeadlineError(e)) throw e
    return fail(
      'PLUGIN_LOAD',
      `plugin ${name}: its config (plugins.${name}.config in engine.config.ts) was still being checked against the configSchema of ${shownPath(join(dir, 'plugin.json'))} after ${deadlineMs / 1000} s, and the check was stopped: a "pattern" there that backtracks on this value (a repetition inside a repetition, like (a+)+)? The check runs on the engine's thread, at start and at every reload`,
    )
  }
}

function checkConfig(name: string, schema: Record<string, unknown>, config: Record<string, JsonValue>): Result<Record<string, JsonValue>> {
  // useDefaults fills the schema's `default`s in, on a copy: the caller's config object stays as written.
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, verbose: true })
  let validate
  try {
    validate = ajv.compile(schema)
  } catch (e) {
    return fail('PLUGIN_LOAD', `plugin ${name}: plugin.json configSchema is not a valid JSON Schema: ${e instanceof Error ? e.message : String(e)}`)
  }
  const copy = structuredClone(config)
  if (validate(copy)) return ok(copy)
  const problems = (validate.errors ?? []).map((err) => {
    // ajv's "must NOT have additional properties" does not say which: the misspelt key is what to fix.
    const extra = err.keyword === 'additionalProperties' ? (err.params as { additionalProperty?: string }).additionalProperty : undefined
    if (extra !== undefined) {
      const allowed = Object.keys(((err.parentSchema as { properties?: object } | undefined)?.properties ?? {}) as object)
      const list = allowed.length > 0 ? `; its settings here: ${allowed.join(', ')}` : ''
      return `${err.instancePath}/${extra} is not a setting of this plugin${didYouMean(extra, allowed) || list}`
    }
    // ajv's "must be equal to one of the allowed values" does not say which they are.
    if (err.keyword === 'enum') {
      const values = (err.params as { allowedValues?: unknown[] }).allowedValues ?? []
      const got = JSON.stringify(err.data)
      const texts = values.filter((v): v is string => typeof v === 'string')
      const meant = typeof err.data === 'string' ? didYouMean(err.data, texts) : ''
      return `${err.instancePath || '/'} must be one of ${values.map((v) => JSON.stringify(v)).join(', ')}, got ${got === undefined ? String(err.data) : got.slice(0, 60)}${meant}`
    }
    return `${err.instancePath || '/'} ${err.message ?? 'is invalid'}`
  })
  return fail('PLUGIN_LOAD', `plugin ${name}: config invalid (plugins.${name}.config in engine.config.ts): ${problems.join('; ')}`)
}

/** JSON.parse's "... at position 44" (node 20) as `file:line:col: ...`, the form editors jump to. */
function jsonErrorAt(file: string, text: string, e: unknown): string {
  const message = e instanceof Error ? e.message : String(e)
  const at = /at position (\d+)/.exec(message)
  if (!at) return `plugin.json: ${message}`
  const before = text.slice(0, Number(at[1]))
  const line = before.split('\n').length
  const column = before.length - before.lastIndexOf('\n')
  return `${shownPath(file)}:${line}:${column}: ${message.replace(/ in JSON at position \d+.*$/, '').replace(/ \(line \d+ column \d+\)$/, '')}`
}
