/**
 * Builds the engine's configuration: defaults <- engine.config.ts <- environment, then validates.
 * The environment wins so that secrets and deploy settings never need to live in the file.
 */
import { existsSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { DEFAULT_PLUGIN_ISOLATION } from '../plugin/plugin-isolation.ts'
import { fail, ok, type Result } from '../errors.ts'
import { quotedShort } from '../shown-text.ts'
import { shownPath, sourcePlace } from '../shown-path.ts'
import { describeConfigIssues, engineConfigSchema, settingPath, valueKind, type SettingOrigin } from './config-schema.ts'
import { settingPlacesIn, type SettingPlace } from './setting-places.ts'
import type { AccountConfig, EngineConfig, UserConfig } from './config-types.ts'
import { readConfigFile } from './read-config-file.ts'
import { ACCOUNT_VARIABLES, type AccountVariableSetting } from './account-variables.ts'
import { unknownAccount } from './unknown-account.ts'

export const CONFIG_FILE_NAMES = ['engine.config.ts', 'engine.config.js', 'engine.config.mjs']

export function defaultConfig(root: string): EngineConfig {
  return {
    port: 8080,
    host: '0.0.0.0',
    trustProxy: false,
    dataDir: path.join(root, 'data'),
    rulesDir: path.join(root, 'rules'),
    pluginsDir: path.join(root, 'plugins'),
    menusDir: path.join(root, 'menus'),
    defaultAccount: 'default',
    accounts: [],
    store: { kind: 'sqlite' },
    limits: {
      maxBodyBytes: 1024 * 1024,
      requestTimeoutMs: 10_000,
      timestampWindowSeconds: 600,
      replyBudgetMs: 4500,
      replyCacheMs: 30_000,
      pluginTimeoutMs: 30_000,
      pluginMemoryMb: 256,
      pluginIsolation: DEFAULT_PLUGIN_ISOLATION,
      newsMaxArticles: 8,
      newsMaxArticlesForUserMessage: 1,
      // A page view is about four requests (the login's two steps, the identity, the JS-SDK signature), and
      // users behind one carrier NAT share an address: generous, so only a flood meets it.
      webRequestsPerMinute: 600,
    },
    plugins: {},
    log: { level: 'info', pretty: false, retentionDays: 30, purgeOnUnsubscribe: false, commitBeforeAnswer: true },
    platform: { apiBase: 'https://api.weixin.qq.com', mpBase: 'https://mp.weixin.qq.com', openBase: 'https://open.weixin.qq.com' },
    admin: { enabled: true },
    watch: false,
  }
}

function mergeDeep<T>(base: T, over: unknown): T {
  if (over === undefined) return base
  if (typeof base !== 'object' || base === null || Array.isArray(base) || typeof over !== 'object' || over === null || Array.isArray(over)) {
    return over as T
  }
  const out: Record<string, unknown> = { ...(base as Record<string, unknown>) }
  for (const [k, v] of Object.entries(over as Record<string, unknown>)) {
    // An own `__proto__` (a config built with JSON.parse) stays a key, which the schema refuses as no
    // setting: assigned, it would swap the merged object's prototype instead.
    if (k === '__proto__') Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true })
    else out[k] = mergeDeep(out[k], v)
  }
  return out as T
}

/** TRUST_PROXY: 1 or 0 (true or false, yes or no), or how many proxies are in front (2: a CDN, then nginx). */
function proxiesFromEnv(env: NodeJS.ProcessEnv, problems: string[]): boolean | number | undefined {
  const v = env.TRUST_PROXY
  if (v === undefined || v === '') return undefined
  if (/^(1|true|yes)$/i.test(v)) return true
  if (/^(0|false|no)$/i.test(v)) return false
  if (/^([2-9]|10)$/.test(v)) return Number(v)
  problems.push(`TRUST_PROXY: must be 1 or 0 (true or false), or how many proxies are in front (2 to 10), got ${quotedShort(v, 40)}`)
  return undefined
}

function intFromEnv(env: NodeJS.ProcessEnv, name: string, problems: string[]): number | undefined {
  const v = env[name]
  if (v === undefined || v === '') return undefined
  if (!/^\d+$/.test(v)) {
    // Quoted and cut: the value is whatever the deploy set (a pasted file, control characters).
    problems.push(`${name}: must be a whole number of 0 or more, in digits, got ${quotedShort(v, 40)}`)
    return undefined
  }
  return Number(v)
}

/** Environment variables applied on top of the file (README lists them). */
function applyEnv(config: EngineConfig, env: NodeJS.ProcessEnv, root: string, problems: string[], origins: EnvOrigins): EngineConfig {
  const c: EngineConfig = structuredClone(config)
  /** The variable is set: noted as the origin of the setting it writes, for that setting's errors. */
  const given = (name: string, setting: readonly PropertyKey[]): boolean => {
    if (!env[name]) return false
    origins.set(settingPath(setting), name)
    return true
  }
  const port = intFromEnv(env, 'PORT', problems)
  if (port !== undefined && given('PORT', ['port'])) c.port = port
  if (given('HOST', ['host'])) c.host = env.HOST!
  if (given('DATA_DIR', ['dataDir'])) c.dataDir = path.resolve(root, env.DATA_DIR!)
  if (given('RULES_DIR', ['rulesDir'])) c.rulesDir = path.resolve(root, env.RULES_DIR!)
  if (given('PLUGINS_DIR', ['pluginsDir'])) c.pluginsDir = path.resolve(root, env.PLUGINS_DIR!)
  if (given('MENUS_DIR', ['menusDir'])) c.menusDir = path.resolve(root, env.MENUS_DIR!)
  if (given('LOG_LEVEL', ['log', 'level'])) c.log.level = env.LOG_LEVEL as EngineConfig['log']['level']
  if (given('STORE', ['store', 'kind'])) c.store.kind = env.STORE as EngineConfig['store']['kind']
  if (given('REDIS_URL', ['store', 'url'])) c.store.url = env.REDIS_URL
  // REDIS_URL alone was taken without a word and never used: each instance of a fleet on a SQLite file of its
  // own, so a WeChat retry answered by another instance ran twice, and sessions split. STORE set (STORE=sqlite
  // to read one instance's log, docs/scaling.md) says the store was chosen; the file's `kind: 'redis'` too.
  if (env.REDIS_URL && !env.STORE && c.store.kind !== 'redis') {
    problems.push(`REDIS_URL: is set, but the store is ${c.store.kind} (store.kind in engine.config.ts), which would leave it unused: set STORE=redis (or store.kind: 'redis'), or unset REDIS_URL`)
  }
  if (given('WECHAT_API_BASE', ['platform', 'apiBase'])) c.platform.apiBase = env.WECHAT_API_BASE!
  if (given('WECHAT_MP_BASE', ['platform', 'mpBase'])) c.platform.mpBase = env.WECHAT_MP_BASE!
  if (given('WECHAT_OPEN_BASE', ['platform', 'openBase'])) c.platform.openBase = env.WECHAT_OPEN_BASE!
  if (given('ADMIN_TOKEN', ['admin', 'token'])) c.admin.token = env.ADMIN_TOKEN
  // A blank line of an EnvironmentFile: taken as "not set", it left /metrics and /healthz open without a word.
  else if (env.ADMIN_TOKEN === '') problems.push('ADMIN_TOKEN: is set but empty, which would leave /healthz and /metrics without a token; give it one (8 or more printable ASCII characters), or unset it')
  if (given('PUBLIC_URL', ['publicUrl'])) c.publicUrl = env.PUBLIC_URL
  const trustProxy = proxiesFromEnv(env, problems)
  if (trustProxy !== undefined) c.trustProxy = trustProxy

  // Set but empty is a secret not filled in (a blank line of an EnvironmentFile), not "use the file's":
  // the file's is the example's, whose token anyone can sign pushes with.
  const accountEnv: Partial<Record<AccountVariableSetting, string>> = {}
  for (const [setting, name] of Object.entries(ACCOUNT_VARIABLES) as [AccountVariableSetting, string][]) {
    if (env[name] === '') problems.push(`${name}: is set but empty; give it a value, or unset it to use engine.config.ts`)
    else if (env[name]) accountEnv[setting] = env[name]
  }
  // The WECHAT_* variables set the default account. When the file has accounts but none by that id (a typo in
  // defaultAccount, or none written: "default"), they made a third one of their own, which then answered
  // /wechat while the file's account kept its token: refused, naming the id and the accounts there are.
  const variablesSet = [...Object.values(ACCOUNT_VARIABLES), 'WECHAT_PAGE_DOMAINS', 'WECHAT_ADMINS'].filter((name) => env[name])
  if (variablesSet.length > 0 && c.accounts.length > 0 && !c.accounts.some((a) => a.id === c.defaultAccount)) {
    problems.push(
      `${variablesSet.join(', ')}: set the default account (defaultAccount, "default" when not written), but there is ` +
        `${unknownAccount(c.defaultAccount, c.accounts.map((a) => a.id), 'the file')}: set defaultAccount to the account they are for`,
    )
    return c
  }
  /** The default account's setting, as a path: `accounts[0].token`. */
  const ofDefault = (...setting: string[]) => ['accounts', c.accounts.indexOf(defaultAccountOf(c)), ...setting]
  if (Object.keys(accountEnv).length > 0) {
    const account = defaultAccountOf(c)
    for (const setting of Object.keys(accountEnv)) given(ACCOUNT_VARIABLES[setting as AccountVariableSetting], ofDefault(setting))
    // A key given without a mode means the operator turned encryption on: accept both (compatible).
    if (accountEnv.encodingAESKey && !accountEnv.mode && account.mode === 'plaintext') {
      accountEnv.mode = 'compatible'
      given('WECHAT_ENCODING_AES_KEY', ofDefault('mode'))
    }
    Object.assign(account, accountEnv)
    // The schema's "encodingAESKey: is required in safe mode" points at the file, whose account may say
    // plaintext: the mode came from here.
    if ((accountEnv.mode === 'safe' || accountEnv.mode === 'compatible') && !account.encodingAESKey) {
      problems.push(`WECHAT_MODE: is ${accountEnv.mode}, which needs the default account's EncodingAESKey: set WECHAT_ENCODING_AES_KEY (or encodingAESKey in the file), or leave WECHAT_MODE out`)
    }
  }
  const pageDomains = listFromEnv(env, 'WECHAT_PAGE_DOMAINS', "the hosts of the default account's pages (its JS接口安全域名)", problems, 20)
  if (pageDomains) {
    defaultAccountOf(c).pageDomains = pageDomains
    given('WECHAT_PAGE_DOMAINS', ofDefault('pageDomains'))
  }
  const admins = adminsFromEnv(env, problems)
  if (admins) {
    given('WECHAT_ADMINS', ofDefault('userGroups', 'admins'))
    const account = defaultAccountOf(c)
    // Replaces the file's group, as WECHAT_TOKEN replaces its token: OpenIDs are personal data a deploy
    // keeps out of the repository, and the environment says the whole list.
    account.userGroups = { ...account.userGroups, admins }
  }
  return c
}

/** Setting path (`accounts[0].token`) -> the environment variable that set it. */
type EnvOrigins = Map<string, string>

/**
 * The default account, which the WECHAT_* variables set: created, empty, when the file has no accounts
 * (the environment alone may describe it; the schema then says what it still lacks).
 */
function defaultAccountOf(c: EngineConfig): AccountConfig {
  let account = c.accounts.find((a) => a.id === c.defaultAccount)
  if (!account) {
    account = { id: c.defaultAccount, token: '', appId: '', mode: 'plaintext' }
    c.accounts.push(account)
  }
  return account
}

/**
 * WECHAT_ADMINS: the default account's `admins` group, OpenIDs between commas or spaces. Set but empty is
 * refused as the other WECHAT_* are: a list not filled in must not fall back to the file's.
 */
function adminsFromEnv(env: NodeJS.ProcessEnv, problems: string[]): string[] | undefined {
  return listFromEnv(env, 'WECHAT_ADMINS', 'the OpenIDs of the admins group', problems)
}

/** A list between commas or spaces; set but empty is a problem, as for the other WECHAT_* variables. */
function listFromEnv(env: NodeJS.ProcessEnv, name: string, what: string, problems: string[], max = Infinity): string[] | undefined {
  const v = env[name]
  if (v === undefined) return undefined
  const items = v.split(/[\s,]+/).filter((item) => item !== '')
  if (items.length === 0) {
    problems.push(`${name}: is set but empty; give it ${what}, or unset it to use engine.config.ts`)
    return undefined
  }
  // Said once, not an error per item: a value pasted wrong (a file's contents) must not flood the journal.
  if (items.length > max) {
    problems.push(`${name}: has ${items.length} items, at most ${max}; give it ${what}`)
    return undefined
  }
  return items
}

export interface LoadConfigOptions {
  /** Project root: where engine.config.ts, rules/, plugins/ and data/ are looked for. */
  root: string
  /** An explicit config file; default: the first of CONFIG_FILE_NAMES in root, if any. */
  file?: string
  env?: NodeJS.ProcessEnv
  /** Applied after the file and before the environment (tests). */
  overrides?: UserConfig
  /** Told each file read: the configuration file and the project's files it imports (read-config-file.ts). */
  onFileRead?: (file: string) => void
  /** How long the file and its imports may run (read-config-file.ts; a reload's is shorter). */
  deadlineMs?: number
}

/** The project's configuration file: the first of CONFIG_FILE_NAMES in `root` that exists, if any. */
export function findConfigFile(root: string): string | undefined {
  return CONFIG_FILE_NAMES.map((n) => path.join(root, n)).find((f) => existsSync(f))
}

export function loadConfig(opts: LoadConfigOptions): Result<EngineConfig> {
  const root = path.resolve(opts.root)
  const env = opts.env ?? process.env
  let config = defaultConfig(root)
  const file = opts.file ? path.resolve(root, opts.file) : findConfigFile(root)
  if (opts.file && !existsSync(file!)) return fail('BAD_CONFIG', `config file not found: ${file}`)
  for (const layer of [file ? readConfigFile(file, { onFileRead: opts.onFileRead, deadlineMs: opts.deadlineMs }) : ok<UserConfig>({}), ok(opts.overrides ?? {})]) {
    if (!layer.ok) return layer
    config = mergeDeep(config, resolveDirs(layer.value, root))
  }
  // The sections the environment writes into must be what they are before it does: `accounts: null` or
  // `admin: null` in the file threw a TypeError out of here (a stack at start, not the setting's name).
  const misshapen = misshapenSections(config)
  if (misshapen.length > 0) return invalidConfiguration(file, misshapen)
  // No mode: an account given a key wants encryption (as WECHAT_ENCODING_AES_KEY alone does, below), and
  // compatible takes both kinds of push; without a key, plaintext.
  config.accounts = config.accounts.map((a) => ({ ...a, mode: a.mode ?? (a.encodingAESKey ? 'compatible' : 'plaintext') }) as AccountConfig)
  const notData = firstNonData(config, '')
  if (notData) return invalidConfiguration(file, [notData])
  const problems: string[] = []
  const origins: EnvOrigins = new Map()
  config = applyEnv(config, env, root, problems, origins)
  const parsed = engineConfigSchema.safeParse(config, { reportInput: true })
  if (!parsed.success) {
    const originOf = settingOrigins(origins, file, opts.overrides)
    problems.push(...describeConfigIssues(parsed.error, config.accounts.findIndex((a) => a.id === config.defaultAccount), originOf))
  }
  if (problems.length > 0) {
    return invalidConfiguration(file, problems)
  }
  // Links are built by adding `/oauth/...`: `https://wx.example.com/` would give `//oauth`.
  if (config.publicUrl !== undefined) config.publicUrl = new URL(config.publicUrl).href.replace(/\/+$/, '')
  return ok(config)
}

/**
 * Where each refused setting came from: the environment variable that set it (or a list it is in), else its
 * line in the configuration file, or in a file it imports, where that file writes it literally (setting-places.ts). A setting the
 * overrides give (tests) is in no file. Read only for a refused configuration.
 */
function settingOrigins(origins: EnvOrigins, file: string | undefined, overrides: UserConfig | undefined): (path: readonly PropertyKey[]) => SettingOrigin | undefined {
  let placeIn: ((path: readonly PropertyKey[]) => SettingPlace | undefined) | undefined
  return (setting) => {
    for (let n = setting.length; n > 0; n--) {
      const variable = origins.get(settingPath(setting.slice(0, n)))
      if (variable !== undefined) return { variable }
    }
    if (file === undefined || path.extname(file) === '.json' || isIn(overrides, setting)) return undefined
    if (placeIn === undefined) {
      let source = ''
      try {
        source = readFileSync(file, 'utf8')
      } catch {
        // Read a moment ago: gone since, the error keeps its path alone.
      }
      placeIn = settingPlacesIn(source, file)
    }
    const place = placeIn(setting)
    if (place === undefined) return undefined
    // A file imported computes the value: the file is still the one to look in.
    return { place: place.line === undefined ? shownPath(place.file) : sourcePlace(place.file, place.line, place.column) }
  }
}

/** Whether the overrides give the setting: it, or a list holding it (a list replaces the file's whole). */
function isIn(value: unknown, setting: readonly PropertyKey[]): boolean {
  let at = value
  for (const step of setting) {
    if (typeof at !== 'object' || at === null || !Object.hasOwn(at, step)) return false
    at = (at as Record<PropertyKey, unknown>)[step]
    if (Array.isArray(at)) return true
  }
  return setting.length > 0
}

/** BAD_CONFIG: `invalid configuration (engine.config.ts):` and a line per problem. */
function invalidConfiguration(file: string | undefined, problems: readonly string[]): Result<never> {
  return fail('BAD_CONFIG', `invalid configuration${file ? ` (${path.relative(process.cwd(), file) || file})` : ''}:\n  ${problems.join('\n  ')}`)
}

const SECTIONS = ['store', 'limits', 'log', 'platform', 'admin'] as const

/** `admin: must be an object, not null`: the sections and the accounts list that are not objects and a list of objects. */
function misshapenSections(config: EngineConfig): string[] {
  const problems: string[] = []
  const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v)
  for (const section of SECTIONS) {
    const value: unknown = config[section]
    if (!isObject(value)) problems.push(`${section}: must be an object, not ${valueKind(value)}`)
  }
  const accounts: unknown = config.accounts
  if (!Array.isArray(accounts)) problems.push(`accounts: must be a list of accounts, not ${valueKind(accounts)}`)
  // By index, not forEach: a hole (`[, {...}]`) is an account missing, which forEach would skip.
  else for (let i = 0; i < accounts.length; i++) if (!isObject(accounts[i])) problems.push(`accounts[${i}]: must be an object (id, token, appId, ...), not ${valueKind(accounts[i])}`)
  return problems
}

/**
 * The configuration is data: strings, numbers, booleans, arrays and plain objects. A function or a Promise
 * (an `async` value, a forgotten `await`) would otherwise fail deep inside with a clone error and a stack;
 * this names where it is.
 */
function firstNonData(value: unknown, at: string, within: Set<object> = new Set()): string | undefined {
  const t = typeof value
  if (value === null || value === undefined || t === 'string' || t === 'number' || t === 'boolean') return undefined
  const where = at === '' ? 'the configuration' : at
  if (t !== 'object') return `${where}: must be plain data (a string, number, boolean, array or object), not a ${t}`
  // An object inside itself: JSON has no such thing, and walking it would never end (a stack overflow, exit 1).
  if (within.has(value as object)) return `${where}: contains itself (a cycle); the configuration must be a tree of plain data`
  if (within.size >= MAX_CONFIG_DEPTH) return `${where}: nested deeper than ${MAX_CONFIG_DEPTH} levels`
  within.add(value as object)
  try {
    return firstNonDataWithin(value as object, at, where, within)
  } finally {
    within.delete(value as object)
  }
}

/** Nesting no configuration needs (the deepest setting is 4 levels down), bounding the walk. */
const MAX_CONFIG_DEPTH = 64

function firstNonDataWithin(value: object, at: string, where: string, within: Set<object>): string | undefined {
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = firstNonData(value[i], `${at}[${i}]`, within)
      if (found) return found
    }
    return undefined
  }
  const proto = Object.getPrototypeOf(value) as unknown
  if (proto !== Object.prototype && proto !== null) {
    const kind = (value as object).constructor?.name ?? 'object'
    return `${where}: must be plain data (a string, number, boolean, array or object), not a ${kind}`
  }
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const found = firstNonData(v, at === '' ? k : `${at}.${k}`, within)
    if (found) return found
  }
  return undefined
}

/** Relative directories in the file are relative to the project root, not to the working directory. */
function resolveDirs(user: UserConfig, root: string): UserConfig {
  const out = { ...user }
  for (const key of ['dataDir', 'rulesDir', 'pluginsDir', 'menusDir'] as const) {
    const v = out[key]
    if (typeof v === 'string') out[key] = path.resolve(root, v)
  }
  return out
}
