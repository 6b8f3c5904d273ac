/**
 * Loading the configuration (core/config/load-config.ts): engine.config.ts, then the environment. A wrong
 * setting stops start-up with BAD_CONFIG and a message that names it; nothing fails later with a stack.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'

const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const dirs: string[] = []
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

function project(configSource?: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-config-'))
  dirs.push(dir)
  if (configSource !== undefined) writeFileSync(path.join(dir, 'engine.config.ts'), configSource)
  return dir
}

const withAccount = (account: string, extra = '') =>
  `import { defineConfig } from 'wxengine/config'\nexport default defineConfig({\n  accounts: [${account}],\n${extra}})\n`

function refused(root: string, env: NodeJS.ProcessEnv = {}): string {
  const r = loadConfig({ root, env })
  assert.equal(r.ok, false, 'the configuration should be refused')
  if (r.ok) return ''
  assert.equal(r.error.code, 'BAD_CONFIG')
  return r.error.reason
}

test('the environment alone configures the default account; the defaults fill in the rest', () => {
  const r = loadConfig({ root: project(), env: { WECHAT_TOKEN: 'tok123', WECHAT_APPID: 'wx1', PORT: '9090', DATA_DIR: 'state' } })
  assert.ok(r.ok, r.ok ? '' : r.error.reason)
  const c = r.value
  assert.deepEqual(c.accounts, [{ id: 'default', token: 'tok123', appId: 'wx1', mode: 'plaintext' }])
  assert.equal(c.port, 9090)
  assert.equal(c.dataDir, path.join(dirs.at(-1)!, 'state'))
  assert.equal(c.limits.maxBodyBytes, 1024 * 1024)
  assert.equal(c.limits.requestTimeoutMs, 10_000)
})

test('an EncodingAESKey from the environment turns encryption on (compatible) for the default account', () => {
  const r = loadConfig({ root: project(), env: { WECHAT_TOKEN: 'tok123', WECHAT_APPID: 'wx1', WECHAT_ENCODING_AES_KEY: KEY } })
  assert.ok(r.ok)
  assert.equal(r.value.accounts[0].mode, 'compatible')
})

test('an account with a key and no mode is compatible; one that says plaintext stays plaintext', () => {
  const source = withAccount(`{ id: 'a', token: 'tok123', appId: 'wx1', encodingAESKey: '${KEY}' }, { id: 'b', token: 'tok123', appId: 'wx2', encodingAESKey: '${KEY}', mode: 'plaintext' }`, "  defaultAccount: 'a',\n")
  const r = loadConfig({ root: project(source), env: {} })
  assert.ok(r.ok, r.ok ? '' : r.error.reason)
  assert.deepEqual(r.value.accounts.map((a) => a.mode), ['compatible', 'plaintext'])
})

test('admin.port equal to the public port: refused as a setting, not reported as a port in use at the start', () => {
  const source = withAccount(`{ id: 'a', token: 'tok123', appId: 'wx1' }`, "  defaultAccount: 'a',\n  port: 9000,\n  admin: { port: 9000 },\n")
  assert.match(refused(project(source)), /admin\.port: is the public port \(9000\); leave it out to share that port/)
})

test('no token: refused, naming the setting and its variable', () => {
  assert.match(refused(project(), { WECHAT_APPID: 'wx1' }), /accounts\[0\]\.token: must be 3 to 32 letters or digits \(WECHAT_TOKEN\)/)
})

test('another account with no token: its setting named, not the default account\'s variable', () => {
  const source = withAccount(`{ id: 'main', token: 'tok123', appId: 'wx1' }, { id: 'shop', token: '', appId: 'wx2' }`, "  defaultAccount: 'main',\n")
  const reason = refused(project(source))
  assert.match(reason, /accounts\[1\]\.token: must be 3 to 32 letters or digits$/m)
  assert.doesNotMatch(reason, /WECHAT_TOKEN/)
})

test('two accounts with one AppID: refused, naming both (their access_token fetches would end each other\'s)', () => {
  const source = withAccount(`{ id: 'main', token: 'tok123', appId: 'wx1' }, { id: 'shop', token: 'tok456', appId: 'wx1' }`, "  defaultAccount: 'main',\n")
  assert.match(refused(project(source)), /accounts\[1\]\.appId: is also account "main"'s \(wx1\): one Official Account is one account/)
})

test('an account id that is not a URL segment: that error alone, not also "defaultAccount names no configured account"', () => {
  const reason = refused(project(withAccount(`{ id: 'a b', token: 'tok123', appId: 'wx1' }`, "  defaultAccount: 'a b',\n")))
  assert.match(reason, /accounts\[0\]\.id: must be 1 to 64 letters, digits, _ or -/)
  assert.doesNotMatch(reason, /defaultAccount/)
  // A name cannot be 300 characters: its rules/ folder could never be made.
  const long = 'a'.repeat(65)
  assert.match(refused(project(withAccount(`{ id: '${long}', token: 'tok123', appId: 'wx1' }`, `  defaultAccount: '${long}',\n`))), /accounts\[0\]\.id: must be 1 to 64 letters, digits, _ or - \(it is a URL path segment, and names its rules\/ folder and menus\/ file\)/)
  assert.equal(loadConfig({ root: project(withAccount(`{ id: '${'a'.repeat(64)}', token: 'tok123', appId: 'wx1' }`, `  defaultAccount: '${'a'.repeat(64)}',\n`)), env: {} }).ok, true)
})

test('a defaultAccount that names no account says the accounts there are, with a did-you-mean, and that "default" is the id when it is not written', () => {
  const accounts = `{ id: 'alpha', token: 'tokalpha', appId: 'wx1' }, { id: 'beta', token: 'tokbeta', appId: 'wx2' }`
  assert.match(refused(project(withAccount(accounts, "  defaultAccount: 'Alpha',\n"))), /defaultAccount: names no configured account \("Alpha"\) \(did you mean "alpha"\?\); accounts: alpha, beta/)
  assert.match(refused(project(withAccount(accounts))), /defaultAccount: names no configured account \("default", the id when defaultAccount is not written\); accounts: alpha, beta/)
})

test('an EncodingAESKey that is not 43 characters: refused, naming the setting', () => {
  const reason = refused(project(withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1', mode: 'safe', encodingAESKey: '${KEY.slice(0, 42)}' }`)))
  assert.match(reason, /accounts\[0\]\.encodingAESKey: must be exactly 43 characters/)
  assert.match(reason, /engine\.config\.ts/)
})

test('an EncodingAESKey of the wrong shape says what is wrong with it (a character lost, the = padding, a pasted space), never a character of it', () => {
  const faults: [string, string][] = [
    [KEY.slice(0, 42), 'this one is 42 characters'],
    [`${KEY}=`, "this one ends with '=', which the console's key does not have: leave it out"],
    [`${KEY}\n`, 'this one has a space or a line break at its start or end (a paste?)'],
    [`${KEY.slice(0, 42)}_`, 'this one has - or _ in it (the console shows + and /: a URL-safe copy?)'],
    [`${KEY.slice(0, 21)}=${KEY.slice(22)}`, "this one has '=' in it, which the console's key does not have"],
    [`${KEY.slice(0, 42)}.`, 'this one has a character in it that is not a letter, a digit, + or /'],
  ]
  for (const [key, fault] of faults) {
    const reason = refused(project(), { WECHAT_TOKEN: 'tok123', WECHAT_APPID: 'wx1', WECHAT_ENCODING_AES_KEY: key })
    assert.ok(reason.includes(`accounts[0].encodingAESKey: must be exactly 43 characters of A-Z a-z 0-9 + /; ${fault}`), reason)
    assert.match(reason, /\(WECHAT_ENCODING_AES_KEY, from the environment\)$/m)
    assert.ok(!reason.includes(KEY.slice(0, 10)), 'the key is a secret')
  }
})

test('REDIS_URL without STORE=redis is refused, not left unused (each instance of a fleet on its own SQLite file); with STORE set it is the operator\'s choice', () => {
  const root = project(withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1' }`))
  const url = 'redis://127.0.0.1:6379/0'
  assert.match(refused(root, { REDIS_URL: url }), /^ {2}REDIS_URL: is set, but the store is sqlite \(store\.kind in engine\.config\.ts\), which would leave it unused: set STORE=redis \(or store\.kind: 'redis'\), or unset REDIS_URL$/m)
  const redis = loadConfig({ root, env: { REDIS_URL: url, STORE: 'redis' } })
  assert.equal(redis.ok && redis.value.store.url, url)
  // docs/scaling.md: STORE=sqlite on a fleet instance to read its own log with Redis down.
  assert.equal(loadConfig({ root, env: { REDIS_URL: url, STORE: 'sqlite' } }).ok, true)
  const fileSaysRedis = project(withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1' }`, "  store: { kind: 'redis' },\n"))
  assert.equal(loadConfig({ root: fileSaysRedis, env: { REDIS_URL: url } }).ok, true)
})

test('a PORT that is not a number: refused, naming the variable', () => {
  assert.match(refused(project(), { WECHAT_TOKEN: 'tok123', WECHAT_APPID: 'wx1', PORT: 'eighty' }), /PORT: must be a whole number of 0 or more, in digits, got "eighty"/)
})

test('a timeout past what node timers can wait is refused, not turned into 1 ms', () => {
  const reason = refused(project(withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1' }`, `  limits: { pluginTimeoutMs: 3_000_000_000 },\n  plugins: { echo: { timeoutMs: 2_147_483_648 } },\n`)))
  assert.match(reason, /limits\.pluginTimeoutMs: must be at most 2147483647/)
  assert.match(reason, /plugins\.echo\.timeoutMs: must be at most 2147483647/)
})

test('a function or a Promise in the configuration is refused with where it is, not a clone error', () => {
  const promise = refused(project(withAccount(`{ id: 'default', token: Promise.resolve('x') as any, appId: 'wx1' }`)))
  assert.match(promise, /accounts\[0\]\.token: must be plain data .*not a Promise/)
  const fn = refused(project(withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1' }`, `  plugins: { echo: { config: { greet: () => 'hi' } } },\n`)))
  assert.match(fn, /plugins\.echo\.config\.greet: must be plain data .*not a function/)
})

test('a configuration that contains itself, or nests without end, is refused naming where (it overflowed the stack: exit 1)', () => {
  const cyclic = refused(project(`const config: any = { plugins: { echo: { config: {} } } }\nconfig.plugins.echo.config.self = config.plugins.echo\nexport default { ...config, accounts: [{ id: 'default', token: 'tok123', appId: 'wx1' }] }\n`))
  assert.match(cyclic, /plugins\.echo\.config\.self: contains itself \(a cycle\)/)
  const deep = refused(project(`let v: any = 'x'\nfor (let i = 0; i < 5000; i++) v = { v }\nexport default { accounts: [{ id: 'default', token: 'tok123', appId: 'wx1' }], plugins: { echo: { config: v } } }\n`))
  assert.match(deep, /plugins\.echo\.config(\.v)+: nested deeper than 64 levels/)
})

test('an error in engine.config.ts names the file and the line, found at compile time or as it runs', () => {
  // file:line:col: and what, as a plugin's or a rule file's error is said (the path: outside the working directory, whole).
  assert.match(refused(project(`export default {\n  port: 80,,\n}\n`)), /engine\.config\.ts:2(:\d+)?: SyntaxError: Unexpected token ','/)
  // The name is not repeated: a token or key without quotes is one, and the line goes to the journal.
  const unquoted = refused(project(`const x = 1\n\nexport default { accounts: [{ id: 'a', token: s3cretToken, appId: 'wx1' }] }\n`))
  assert.match(unquoted, /engine\.config\.ts:3:\d+: ReferenceError: a name there is not defined \(a string missing its quotes\? The name is not repeated here: it could be a secret\)$/)
  assert.doesNotMatch(unquoted, /s3cret/)
  assert.match(refused(project(`export default {\n  port: 80\n  host: 'x'\n}\n`)), /engine\.config\.ts:3:\d+: SyntaxError: /)
  assert.match(refused(project(`throw 'no'\nexport default {}\n`)), /engine\.config\.ts: Error: no$/)
})

test('a configuration not exported as default is said so, not "accounts: needs at least one account" about a file that lists one', () => {
  const account = "{ accounts: [{ id: 'default', token: 'tok123', appId: 'wx1' }] }"
  assert.match(refused(project(`import { defineConfig } from 'wxengine/config'\ndefineConfig(${account})\n`)), /engine\.config\.ts: calls defineConfig\(\{\.\.\.\}\) but exports nothing: write export default defineConfig\(\{\.\.\.\}\)$/)
  const named = refused(project(`import { defineConfig } from 'wxengine/config'\nexport const config = defineConfig(${account})\n`))
  assert.match(named, /engine\.config\.ts: has no default export \(it exports config\): the configuration is export default defineConfig\(\{\.\.\.\}\)$/)
  assert.doesNotMatch(named, /needs at least one account/)
  // Still read as before: a CommonJS module.exports, and a file of comments with the environment doing the rest.
  assert.equal(loadConfig({ root: project(`module.exports = ${account}\n`), env: {} }).ok, true)
  assert.equal(loadConfig({ root: project('// all from the environment\n'), env: { WECHAT_TOKEN: 'tok123', WECHAT_APPID: 'wx1' } }).ok, true)
})

test('a configuration exported as a Promise, or made with a top-level await, is said so, not "accounts: needs at least one account" nor "await is only valid ... at the top level" (a review of bad input)', () => {
  const account = "{ accounts: [{ id: 'default', token: 'tok123', appId: 'wx1' }] }"
  // The file is run synchronously, at start and at every reload: a Promise was read as an object of no settings.
  const promised = refused(project(`import { defineConfig } from 'wxengine/config'\nexport default (async () => defineConfig(${account}))()\n`))
  assert.match(promised, /engine\.config\.ts: exports a Promise \(an async function's result\?\): the file is run synchronously, so export default defineConfig\(\{\.\.\.\}\) itself/)
  assert.doesNotMatch(promised, /needs at least one account/)
  // Node's own words said the await was not at the top level of a module, where it was.
  const awaited = refused(project(`import { readFile } from 'node:fs/promises'\nconst token = (await readFile('/dev/null', 'utf8')) || 'tok123'\nexport default { accounts: [{ id: 'default', token, appId: 'wx1' }] }\n`))
  assert.match(awaited, /engine\.config\.ts:2(:\d+)?: SyntaxError: await at the top level: the file is run synchronously, at start and at every reload; read what it needs synchronously \(readFileSync, process\.env\)$/)
  assert.doesNotMatch(awaited, /only valid in async functions/)
  // An await inside a function not marked async is not one at the top level: node's words stay.
  const inner = refused(project(`function token() {\n  return await Promise.resolve('tok123')\n}\nexport default { accounts: [{ id: 'default', token: token(), appId: 'wx1' }] }\n`))
  assert.match(inner, /engine\.config\.ts:2(:\d+)?: SyntaxError: /)
  assert.doesNotMatch(inner, /at the top level:/)
})

test('an unknown setting is refused, not ignored', () => {
  assert.match(refused(project(withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1' }`, `  limits: { replyBudget: 3000 },\n`))), /limits\.replyBudget: is not a setting \(did you mean "replyBudgetMs"\?\)/)
})

test('an admin token a header cannot carry (not ASCII, a newline, a space) or too short is refused at start, naming ADMIN_TOKEN', () => {
  const root = project(withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1' }`))
  for (const token of ['tökén-secret', 'tok\nen-secret', 'has space in', 'short']) {
    assert.match(refused(root, { ADMIN_TOKEN: token }), /admin\.token: must be at least 8 printable ASCII characters, no spaces .*ADMIN_TOKEN/, JSON.stringify(token))
  }
  const ok = loadConfig({ root, env: { ADMIN_TOKEN: 'b7f3c0de5a91e2d4f6a8c1b3' } })
  assert.equal(ok.ok, true)
  // Set but empty (a blank line of an EnvironmentFile) had left the admin endpoints open without a word.
  assert.match(refused(root, { ADMIN_TOKEN: '' }), /ADMIN_TOKEN: is set but empty, which would leave \/healthz and \/metrics without a token/)
  // An empty token in the file is no token, as it always was.
  const empty = loadConfig({ root: project(withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1' }`, `  admin: { token: '' },\n`)), env: {} })
  assert.equal(empty.ok, true)
})

test('a setting of the wrong type is named in the words of the fix, not zod’s "expected number, received string"', () => {
  const source = withAccount(`{ id: 'a', token: 'tok123', appId: 'wx1' }`, "  defaultAccount: 'a',\n  port: '8080',\n  watch: 'true',\n  limits: { maxBodyBytes: [1] },\n")
  const reason = refused(project(source))
  assert.match(reason, /^ {2}\S*engine\.config\.ts:\d+:\d+: port: must be a number, not the string "8080": write 8080 without quotes$/m)
  assert.match(reason, /^ {2}\S*engine\.config\.ts:\d+:\d+: watch: must be true or false, not the string "true": write true without quotes$/m)
  assert.match(reason, /^ {2}\S*engine\.config\.ts:\d+:\d+: limits\.maxBodyBytes: must be a number, not a list$/m)
  assert.doesNotMatch(reason, /Invalid input|received/)
})

test('a string given where a number goes is not quoted back unless it is a number (it may be a secret)', () => {
  const source = withAccount(`{ id: 'a', token: 'tok123', appId: 'wx1' }`, "  defaultAccount: 'a',\n  port: 's3cret-value',\n")
  const reason = refused(project(source))
  assert.match(reason, /^ {2}\S*engine\.config\.ts:\d+:\d+: port: must be a number, not a string$/m)
  assert.doesNotMatch(reason, /s3cret/)
})

test('an unknown setting is named with its path and the nearest known one, at the top and inside accounts', () => {
  const source = withAccount(`{ id: 'a', token: 'tok123', appId: 'wx1', appSecrte: 'x' }`, "  defaultAccount: 'a',\n  prot: 9000,\n  limits: { maxBodyByte: 10 },\n  zzzz: 1,\n")
  const reason = refused(project(source))
  assert.match(reason, /^ {2}\S*engine\.config\.ts:\d+:\d+: prot: is not a setting \(did you mean "port"\?\)$/m)
  assert.match(reason, /^ {2}\S*engine\.config\.ts:\d+:\d+: accounts\[0\]\.appSecrte: is not a setting \(did you mean "appSecret"\?\)$/m)
  assert.match(reason, /^ {2}\S*engine\.config\.ts:\d+:\d+: limits\.maxBodyByte: is not a setting \(did you mean "maxBodyBytes"\?\)$/m)
  assert.match(reason, /^ {2}\S*engine\.config\.ts:\d+:\d+: zzzz: is not a setting$/m)
})

test('a required account setting left out of the file: "is required", with its variable for the default account only', () => {
  const source = withAccount(`{ id: 'a', appId: 'wx1' }, { id: 'b', appId: 'wx2' }`, "  defaultAccount: 'a',\n")
  const reason = refused(project(source))
  assert.match(reason, /^ {2}\S*engine\.config\.ts:\d+:\d+: accounts\[0\]\.token: is required \(WECHAT_TOKEN\)$/m)
  assert.match(reason, /^ {2}\S*engine\.config\.ts:\d+:\d+: accounts\[1\]\.token: is required$/m)
})

test('a reply cache shorter than WeChat’s retries is refused: a retry after it ends would run the message again (a protocol review)', () => {
  for (const ms of [0, 2000, 19_999]) {
    const source = withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1' }`, `  limits: { replyCacheMs: ${ms} },\n`)
    assert.match(refused(project(source)), /limits\.replyCacheMs: must be at least 20000: WeChat retries an unanswered push three times, 5 s apart/)
  }
  const ok = loadConfig({ root: project(withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1' }`, `  limits: { replyCacheMs: 20000 },\n`)), env: {} })
  assert.ok(ok.ok, ok.ok ? '' : ok.error.reason)
})

test('a section written as something else in engine.config.ts is refused naming it, also where the environment writes into it (it threw a TypeError)', () => {
  const file = (body: string) => project(`export default {\n${body}\n}\n`)
  assert.match(refused(file(`  accounts: null as any,`), { WECHAT_TOKEN: 'tok123' }), /^invalid configuration \(.*engine\.config\.ts\):\n {2}accounts: must be a list of accounts, not null$/)
  assert.match(refused(file(`  accounts: [, { id: 'default', token: 'tok123', appId: 'wx1' }] as any,`)), /accounts\[0\]: must be an object \(id, token, appId, \.\.\.\), not undefined/)
  assert.match(
    refused(file(`  accounts: [{ id: 'default', token: 'tok123', appId: 'wx1' }],\n  admin: null as any,`), { ADMIN_TOKEN: 'a-long-admin-token' }),
    /\n {2}admin: must be an object, not null$/,
  )
  assert.match(refused(file(`  accounts: [{ id: 'default', token: 'tok123', appId: 'wx1' }],\n  ...JSON.parse('{"__proto__": {"port": 1}}'),`)), /\n {2}__proto__: is not a setting$/)
})

test('a fraction where a whole number goes says so (zod\'s words were "must be int, not a number")', () => {
  const source = withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1' }`, '  port: 80.5,\n  limits: { maxBodyBytes: 1.5, replyBudgetMs: \'4000\' },\n')
  const reason = refused(project(source))
  assert.match(reason, /port: must be a whole number, got 80\.5/)
  assert.match(reason, /limits\.maxBodyBytes: must be a whole number, got 1\.5/)
  assert.doesNotMatch(reason, /must be int/)
})

test('WECHAT_* variables with a file whose accounts have none by the default id are refused, not made into a third account that answers /wechat', () => {
  const accounts = `{ id: 'alpha', token: 'tokalpha', appId: 'wx1' }, { id: 'beta', token: 'tokbeta', appId: 'wx2' }`
  const env = { WECHAT_TOKEN: 'envtoken', WECHAT_APPID: 'wxenv' }
  // A typo in defaultAccount: it had started with accounts alpha, beta and "alpah", the environment's.
  assert.match(
    refused(project(withAccount(accounts, "  defaultAccount: 'alpah',\n")), env),
    /WECHAT_TOKEN, WECHAT_APPID: set the default account \(defaultAccount, "default" when not written\), but there is no account "alpah" in the file \(did you mean "alpha"\?\); accounts: alpha, beta: set defaultAccount to the account they are for/,
  )
  // None written: "default".
  assert.match(refused(project(withAccount(accounts)), { WECHAT_ADMINS: 'oAdmin1' }), /WECHAT_ADMINS: set the default account .*no account "default" in the file; accounts: alpha, beta/)
  // Named right, they set that account; with no account in the file, they describe it alone.
  const named = loadConfig({ root: project(withAccount(accounts, "  defaultAccount: 'beta',\n")), env })
  assert.ok(named.ok, named.ok ? '' : named.error.reason)
  assert.deepEqual(named.value.accounts.map((a) => [a.id, a.token]), [['alpha', 'tokalpha'], ['beta', 'envtoken']])
  const alone = loadConfig({ root: project(`import { defineConfig } from 'wxengine/config'\nexport default defineConfig({})\n`), env })
  assert.ok(alone.ok, alone.ok ? '' : alone.error.reason)
  assert.deepEqual(alone.value.accounts.map((a) => [a.id, a.token, a.appId]), [['default', 'envtoken', 'wxenv']])
})

test("WECHAT_MODE=safe without a key is said as the variable's, not only as the file account's encodingAESKey (whose line says plaintext)", () => {
  const root = project(withAccount(`{ id: 'default', token: 'tok123', appId: 'wx1', mode: 'plaintext' }`))
  assert.match(refused(root, { WECHAT_MODE: 'safe' }), /^ {2}WECHAT_MODE: is safe, which needs the default account's EncodingAESKey: set WECHAT_ENCODING_AES_KEY \(or encodingAESKey in the file\), or leave WECHAT_MODE out$/m)
  assert.equal(loadConfig({ root, env: { WECHAT_MODE: 'safe', WECHAT_ENCODING_AES_KEY: KEY } }).ok, true)
})
