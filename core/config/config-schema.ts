/**
 * Validation of the merged configuration. Each message names the setting (`accounts[0].encodingAESKey`)
 * and, where an environment variable can set it, that variable, so a wrong deploy is fixed in one look.
 */
import { z } from 'zod'
import { didYouMean } from '../did-you-mean.ts'
import { readRedisUrl } from '../store/redis/redis-url.ts'
import { GROUP_NAME } from '../route/user-groups.ts'
import { quotedShort, shortened } from '../shown-text.ts'
import { PAGE_DOMAIN } from '../web/page-domains.ts'
import { ACCOUNT_VARIABLES } from './account-variables.ts'

const base64Key = /^[A-Za-z0-9+/]{43}$/
/** setTimeout's limit: a longer delay is taken as 1 ms (node warns), and every call would time out at once. */
const MAX_TIMER_MS = 2_147_483_647
const TIMER_TOO_LONG = 'must be at most 2147483647 (about 24.8 days): node’s timers go no further'

/**
 * An account id is a URL path segment, and names files (rules/<id>/, menus/<id>.yaml): a 300-character one
 * was served, but its folder could never be made (255 bytes a name), and `menu check` asked for that file.
 */
const ACCOUNT_ID = /^[A-Za-z0-9_-]{1,64}$/

/**
 * What is wrong with an EncodingAESKey, without a character of it (it is a secret, and this goes to the
 * journal): "must be exactly 43 characters" alone left a pasted space, the base64 '=' added, or one character
 * lost in the copy to be found by counting.
 */
function aesKeyFault(key: string): string {
  if (key.trim() !== key) return 'this one has a space or a line break at its start or end (a paste?)'
  if (key.length === 44 && key.endsWith('=')) return "this one ends with '=', which the console's key does not have: leave it out"
  if (key.length !== 43) return `this one is ${key.length} characters (copy the whole key from the console's 基本配置)`
  if (/[-_]/.test(key)) return 'this one has - or _ in it (the console shows + and /: a URL-safe copy?)'
  if (key.includes('=')) return "this one has '=' in it, which the console's key does not have"
  return 'this one has a character in it that is not a letter, a digit, + or /'
}

/**
 * A host of the platform's (platform.apiBase, platform.mpBase, platform.openBase), set by `variable` too. fetch knows no other
 * scheme than http(s), and refuses a URL with credentials quoting it whole, query included (the AppSecret,
 * the access_token): every call would fail at run time.
 */
function platformBase(example: string, variable: string) {
  // zod runs every check, the ones after a failed .url() too: the refinements read a URL that may not parse,
  // and leave saying so to .url() (new URL threw out of loadConfig: a stack instead of the setting's name).
  return z
    .string()
    .url(`must be a URL such as ${example} (${variable})`)
    .refine((v) => { const url = urlOrUndefined(v); return url === undefined || /^https?:$/.test(url.protocol) }, `must be an http:// or https:// URL (${variable})`)
    .refine((v) => { const url = urlOrUndefined(v); return url === undefined || (url.username === '' && url.password === '') }, `must not contain a user or password: fetch refuses such URLs (${variable})`)
}

/**
 * publicUrl: an http(s) URL with nothing after its path. A query or fragment would end up in the middle of
 * every link built on it (`https://wx.example.com?x=1/oauth/...`), and WeChat takes no credentials in a
 * redirect_uri.
 */
const publicUrlSchema = z
  .string()
  .url('must be where browsers reach the engine, such as https://wx.example.com (PUBLIC_URL)')
  .refine((v) => { const url = urlOrUndefined(v); return url === undefined || /^https?:$/.test(url.protocol) }, 'must be an http:// or https:// URL (PUBLIC_URL)')
  .refine((v) => { const url = urlOrUndefined(v); return url === undefined || (url.username === '' && url.password === '') }, 'must not contain a user or password (PUBLIC_URL)')
  .refine((v) => { const url = urlOrUndefined(v); return url === undefined || (url.search === '' && url.hash === '' && !/[?#]/.test(v)) }, 'must not have a query or fragment: links are built by adding paths to it (PUBLIC_URL)')
  // The login cookie's Path is publicUrl's path: a `;` would end the attribute there, and the browser would
  // never send the cookie back to the callback (every login refused).
  .refine((v) => { const url = urlOrUndefined(v); return url === undefined || !url.pathname.includes(';') }, "must not have a ; in its path: the login cookie's Path would end there (PUBLIC_URL)")

function urlOrUndefined(value: string): URL | undefined {
  try {
    return new URL(value)
  } catch {
    return undefined
  }
}
/** What WeChat's console takes as a token; `init` checks WECHAT_TOKEN with it before writing a project. */
export const ACCOUNT_TOKEN = /^[A-Za-z0-9]{3,32}$/

/**
 * What an OpenID is taken to be: lenient on its shape (28 characters of base64url today, but WeChat does not
 * promise it, and tests use short names), strict on what can never be one: empty, or with spaces, which a
 * paste adds and which would never equal a sender's FromUserName.
 */
export const OPENID = /^[\x21-\x7e]{1,128}$/

export const accountSchema = z
  .object({
    id: z.string().regex(ACCOUNT_ID, 'must be 1 to 64 letters, digits, _ or - (it is a URL path segment, and names its rules/ folder and menus/ file)'),
    token: z.string().regex(ACCOUNT_TOKEN, 'must be 3 to 32 letters or digits (WECHAT_TOKEN)'),
    appId: z.string().min(1, 'is required (WECHAT_APPID)'),
    appSecret: z.string().optional(),
    encodingAESKey: z
      .string()
      .refine((key) => base64Key.test(key), { error: (issue) => `must be exactly 43 characters of A-Z a-z 0-9 + /; ${aesKeyFault(String(issue.input))} (WECHAT_ENCODING_AES_KEY)` })
      .optional(),
    mode: z.enum(['plaintext', 'compatible', 'safe'], { error: 'must be plaintext, compatible or safe (WECHAT_MODE)' }),
    originalId: z.string().optional(),
    userGroups: z.record(z.string(), z.array(z.string().regex(OPENID, 'must be an OpenID (such as oAbc...: no spaces, not empty)'))).optional(),
    pageDomains: z
      .array(z.string().regex(PAGE_DOMAIN, 'must be a host or a host and a path as the JS接口安全域名 are entered (h5.example.com, h5.example.com/mp): no https://, port or query (WECHAT_PAGE_DOMAINS)'))
      .max(20, 'takes at most 20 (the console takes a few)')
      .optional(),
  })
  .strict()
  .superRefine((a, ctx) => {
    for (const name of Object.keys(a.userGroups ?? {})) {
      if (!GROUP_NAME.test(name)) {
        ctx.addIssue({ code: 'custom', path: ['userGroups'], message: `group name ${JSON.stringify(name)} must be a letter followed by letters, digits, _ or - (rules name it in users:)` })
      }
    }
    if (a.mode !== 'plaintext' && !a.encodingAESKey) {
      ctx.addIssue({
        code: 'custom',
        path: ['encodingAESKey'],
        message: `is required in ${a.mode} mode (WECHAT_ENCODING_AES_KEY)`,
      })
    }
  })

const TRUST_PROXY_WORDS = 'must be true or false, or how many proxies are in front: 0 to 10 (TRUST_PROXY)'

export const engineConfigSchema = z
  .object({
    port: z.number().int().min(0, 'must be 0 to 65535 (PORT)').max(65535, 'must be 0 to 65535 (PORT)'),
    host: z.string(),
    publicUrl: publicUrlSchema.optional(),
    trustProxy: z.union(
      [z.boolean(), z.number().int().min(0, TRUST_PROXY_WORDS).max(10, TRUST_PROXY_WORDS)],
      { error: TRUST_PROXY_WORDS },
    ),
    dataDir: z.string().min(1),
    rulesDir: z.string().min(1),
    pluginsDir: z.string().min(1),
    menusDir: z.string().min(1),
    defaultAccount: z.string(),
    accounts: z.array(accountSchema).min(1, 'needs at least one account'),
    store: z
      .object({
        kind: z.enum(['sqlite', 'memory', 'redis'], { error: 'must be sqlite, memory or redis (STORE)' }),
        url: z.string().optional(),
        keyPrefix: z.string().min(1, 'must not be empty (the default is wx:)').max(64).optional(),
        commandTimeoutMs: z.number().int().min(10, 'must be at least 10').max(4000, 'must stay well under WeChat’s 5 s').optional(),
      })
      .strict(),
    limits: z
      .object({
        maxBodyBytes: z.number().int().positive(),
        requestTimeoutMs: z.number().int().min(1000, 'must be at least 1000 (1 s)').max(MAX_TIMER_MS, TIMER_TOO_LONG),
        timestampWindowSeconds: z.number().int().positive(),
        replyBudgetMs: z.number().int().positive().max(4900, 'must be at most 4900 (ms): WeChat waits 5 s for an answer'),
        // WeChat retries a push it got no answer to within 5 s, three times: the last comes about 15 s after
        // the first. A shorter cache ran such a retry again (a second reply, a plugin's effect twice).
        replyCacheMs: z.number().int().min(20_000, 'must be at least 20000: WeChat retries an unanswered push three times, 5 s apart, and a retry after the cache ends runs the message again'),
        pluginTimeoutMs: z.number().int().positive().max(MAX_TIMER_MS, TIMER_TOO_LONG),
        pluginMemoryMb: z.number().int().min(16, 'must be at least 16 (MB)'),
        pluginIsolation: z.enum(['auto', 'thread', 'process'], { error: 'must be auto, thread or process' }),
        newsMaxArticles: z.number().int().min(1).max(10),
        newsMaxArticlesForUserMessage: z.number().int().min(1).max(10),
        webRequestsPerMinute: z.number().int().min(0, 'must be 0 (off) or more'),
      })
      .strict(),
    plugins: z.record(
      z.string(),
      z
        .object({
          config: z.record(z.string(), z.unknown()).optional(),
          allow: z.array(z.string()).optional(),
          timeoutMs: z.number().int().positive().max(MAX_TIMER_MS, TIMER_TOO_LONG).optional(),
          memoryMb: z.number().int().min(16, 'must be at least 16 (MB)').optional(),
          enabled: z.boolean().optional(),
        })
        .strict(),
    ),
    log: z
      .object({
        level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'silent'], { error: 'must be trace, debug, info, warn, error or silent (LOG_LEVEL)' }),
        pretty: z.boolean(),
        retentionDays: z.number().nonnegative(),
        purgeOnUnsubscribe: z.boolean(),
        commitBeforeAnswer: z.boolean(),
      })
      .strict(),
    platform: z
      .object({
        apiBase: platformBase('https://api.weixin.qq.com', 'WECHAT_API_BASE'),
        // The other host of the platform: showqrcode (a parameter QR code's image) is served from there.
        mpBase: platformBase('https://mp.weixin.qq.com', 'WECHAT_MP_BASE'),
        openBase: platformBase('https://open.weixin.qq.com', 'WECHAT_OPEN_BASE'),
      })
      .strict(),
    admin: z
      .object({
        enabled: z.boolean(),
        port: z.number().int().min(0).max(65535).optional(),
        // Sent in an Authorization header, which carries printable ASCII only: a token with `ö` (read back
        // as latin1) or a newline could never be matched, and the admin endpoints would be locked for good.
        token: z
          .string()
          // Empty is no token, as before (no auth).
          .regex(/^(?:[\x21-\x7e]{8,})?$/, 'must be at least 8 printable ASCII characters, no spaces (it is sent in an Authorization header; ADMIN_TOKEN)')
          .optional(),
      })
      .strict(),
    watch: z.boolean(),
  })
  .strict()
  .superRefine((c, ctx) => {
    const ids = new Set<string>()
    const appIds = new Map<string, string>()
    c.accounts.forEach((a, i) => {
      if (ids.has(a.id)) ctx.addIssue({ code: 'custom', path: ['accounts', i, 'id'], message: `duplicate account id ${quotedShort(a.id, 40)}` })
      ids.add(a.id)
      // One Official Account is one account here: two with one AppID would each fetch its access_token, and
      // each fetch ends the other's (WeChat keeps one valid per AppID), so their API calls fail in turn.
      const twin = appIds.get(a.appId)
      if (twin !== undefined) ctx.addIssue({ code: 'custom', path: ['accounts', i, 'appId'], message: `is also account ${quotedShort(twin, 40)}'s (${shortened(a.appId, 40)}): one Official Account is one account; serve it at more URLs through a proxy, not a second account` })
      else appIds.set(a.appId, a.id)
    })
    // A default naming an account whose id is itself wrong: that error is the one to fix, not a second.
    const idInvalid = c.accounts.some((a) => !ACCOUNT_ID.test(a.id))
    if (!ids.has(c.defaultAccount) && !idInvalid) {
      ctx.addIssue({
        code: 'custom',
        path: ['defaultAccount'],
        message: `names no configured account (${quotedShort(c.defaultAccount, 40)}${c.defaultAccount === 'default' ? ', the id when defaultAccount is not written' : ''})${didYouMean(c.defaultAccount, [...ids])}; accounts: ${[...ids].join(', ') || 'none'}`,
      })
    }
    // The admin server binds 127.0.0.1: it collides with a public server on every interface or on loopback.
    const publicTakesLoopback = ['0.0.0.0', '::', '127.0.0.1', 'localhost', '::1'].includes(c.host)
    if (c.admin.enabled && c.admin.port !== undefined && c.admin.port !== 0 && c.admin.port === c.port && publicTakesLoopback) {
      // Not "port in use" at the start: the two servers would just take the same port from each other.
      ctx.addIssue({ code: 'custom', path: ['admin', 'port'], message: `is the public port (${c.port}); leave it out to share that port, or give the admin endpoints their own` })
    }
    if (c.store.kind === 'redis' && !c.store.url) {
      ctx.addIssue({ code: 'custom', path: ['store', 'url'], message: 'is required when store.kind is redis (REDIS_URL)' })
    }
    // Its shape here, so every command refuses it as a setting (`rules check` passed what `start` refused);
    // connecting is the start's. Not quoted back: it may hold a password.
    if (c.store.kind === 'redis' && c.store.url && !readRedisUrl(c.store.url).ok) {
      ctx.addIssue({ code: 'custom', path: ['store', 'url'], message: 'must be a redis:// or rediss:// URL, with a database number if any: redis://host:6379/0 (REDIS_URL)' })
    }
  })

/** `accounts[0].token: must be ...` lines, one per problem. Parse with `reportInput: true` for the best words. */
/**
 * Where a refused value came from: `engine.config.ts:7:27: ` before its path where the file writes it, or
 * `(STORE, from the environment)` after its message when a variable set it (the one to fix, whatever the file says).
 */
export type SettingOrigin = { place: string } | { variable: string }

export function describeConfigIssues(error: z.ZodError, defaultAccountIndex = -1, originOf: (path: readonly PropertyKey[]) => SettingOrigin | undefined = () => undefined): string[] {
  return error.issues.flatMap((issue) => {
    // The WECHAT_* variables set the default account only: another account's problem must not point at them.
    const otherAccount = issue.path[0] === 'accounts' && issue.path[1] !== defaultAccountIndex
    const message = otherAccount ? issue.message.replace(/ \(WECHAT_[A-Z_]+\)$/, '') : issue.message
    const said = (path: readonly PropertyKey[], text: string): string => {
      const origin = originOf(path)
      if (origin === undefined) return `${settingPath(path) || '(config)'}: ${text}`
      if ('place' in origin) return `${origin.place}: ${settingPath(path) || '(config)'}: ${text}`
      // `(STORE)` said which variable could set it, not whether it did: the file's value or the variable's?
      return `${settingPath(path)}: ${text.replace(` (${origin.variable})`, '')} (${origin.variable}, from the environment)`
    }
    if (issue.code === 'unrecognized_keys') {
      // zod's `(config): Unrecognized key: "prot"` named neither the setting nor what was meant.
      const allowed = settingsAt(issue.path)
      return issue.keys.map((key) => said([...issue.path, key], `is not a setting${didYouMean(key, allowed)}`))
    }
    if (issue.code === 'invalid_type') {
      const variable = issue.path[0] === 'accounts' && !otherAccount ? (ACCOUNT_VARIABLES as Record<string, string>)[String(issue.path[2])] : undefined
      return [said(issue.path, `${wrongType(issue.expected, issue.input)}${variable ? ` (${variable})` : ''}`)]
    }
    return [said(issue.path, message)]
  })
}

/** `accounts[0].userGroups.admins`; a key that is no name is quoted, `store[" "]`, so the path still reads as one. */
export function settingPath(path: readonly PropertyKey[]): string {
  return path
    .map((p, i) => {
      if (typeof p === 'number') return `[${p}]`
      const key = String(p)
      if (!SETTING_NAME.test(key)) return `[${quotedShort(key, 40)}]`
      return i === 0 ? key : `.${key}`
    })
    .join('')
}
const SETTING_NAME = /^[A-Za-z_$][A-Za-z0-9_$-]*$/

/** What a setting holds, in the words of the fix: `null`, `a list`, `an object`, `a string`. Not the value: it may be a secret. */
export function valueKind(value: unknown): string {
  if (value === null || value === undefined) return String(value)
  return Array.isArray(value) ? 'a list' : typeof value === 'object' ? 'an object' : `a ${typeof value}`
}

/**
 * zod's "Invalid input: expected number, received string" for `port: '8080'`, in the words of the fix. Only
 * a number or boolean written as a string is quoted back: another wrong value may be a secret.
 */
function wrongType(expected: string, input: unknown): string {
  if (input === undefined) return 'is required'
  // zod's `int` for 1.5 where a whole number goes: `must be int, not a number` contradicted itself. A number
  // is no secret; said back, the fix is plain.
  if (expected === 'int' && typeof input === 'number') return `must be a whole number, got ${input}`
  const words: Record<string, string> = { int: 'a whole number', number: 'a number', boolean: 'true or false', string: 'a string', array: 'a list', object: 'an object', record: 'an object' }
  const want = words[expected] ?? expected
  if (typeof input === 'string' && ((expected === 'number' && input.trim() !== '' && Number.isFinite(Number(input))) || (expected === 'boolean' && (input === 'true' || input === 'false')))) {
    return `must be ${want}, not the string ${JSON.stringify(input)}: write ${input.trim()} without quotes`
  }
  const got = valueKind(input)
  return `must be ${want}, not ${got}`
}

/** The setting names allowed where an unknown key was found, for "did you mean". */
function settingsAt(path: readonly PropertyKey[]): string[] {
  let schema: z.ZodType = engineConfigSchema
  for (const step of path) {
    if (schema instanceof z.ZodArray && typeof step === 'number') schema = schema.element as z.ZodType
    else if (schema instanceof z.ZodObject && typeof step === 'string') schema = schema.shape[step] as z.ZodType
    else return []
    if (schema instanceof z.ZodOptional) schema = schema.unwrap() as z.ZodType
  }
  return schema instanceof z.ZodObject ? Object.keys(schema.shape) : []
}
