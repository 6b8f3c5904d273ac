/**
 * Starts a real engine on a loopback port with its own temp data, rules and plugins directories, and speaks
 * to it over HTTP as WeChat does. End-to-end tests build on this.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { AccountConfig, UserConfig } from '../../core/config/config-types.ts'
import { loadConfig } from '../../core/config/load-config.ts'
import type { EngineEvent } from '../../core/engine.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { startRuntime, type Runtime } from '../../core/runtime.ts'
import { createWeChatSimulator, type PushFields, type WeChatSimulator } from '../../core/testkit/wechat-simulator.ts'
import { replyProblems } from '../../core/testkit/reply-problems.ts'

export const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'

export const ACCOUNTS: AccountConfig[] = [
  { id: 'plain', token: 'plaintoken', appId: 'wxplain000000001', mode: 'plaintext' },
  { id: 'compat', token: 'compattoken', appId: 'wxcompat00000001', mode: 'compatible', encodingAESKey: AES_KEY },
  { id: 'safe', token: 'safetoken', appId: 'wxsafe0000000001', mode: 'safe', encodingAESKey: AES_KEY },
]

export interface Harness {
  runtime: Runtime
  url: string
  dir: string
  lines: Array<Record<string, unknown>>
  events: EngineEvent[]
  sim(accountId: string, opts?: { encrypt?: boolean }): WeChatSimulator
  /** POST a push to /wechat/<account> (signed/encrypted per the account's mode). */
  post(accountId: string, fields: PushFields | string, opts?: { encrypt?: boolean }): Promise<{ status: number; body: string; reply: Record<string, unknown> | null }>
  close(): Promise<void>
}

export interface HarnessOptions {
  rules?: Record<string, string>
  plugins?: string
  config?: UserConfig
  accounts?: AccountConfig[]
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-e2e-'))
  const rulesDir = path.join(dir, 'rules')
  mkdirSync(rulesDir)
  for (const [name, yaml] of Object.entries(opts.rules ?? {})) writeFileSync(path.join(rulesDir, name), yaml)
  const pluginsDir = opts.plugins ?? path.join(dir, 'plugins')
  mkdirSync(pluginsDir, { recursive: true })
  const accounts = opts.accounts ?? ACCOUNTS
  const loaded = loadConfig({
    root: dir,
    env: {},
    overrides: {
      port: 0,
      host: '127.0.0.1',
      dataDir: path.join(dir, 'data'),
      rulesDir,
      pluginsDir,
      defaultAccount: accounts[0].id,
      accounts,
      ...opts.config,
    },
  })
  if (!loaded.ok) throw new Error(loaded.error.reason)
  const { logger, lines } = createMemoryLogger('debug')
  const events: EngineEvent[] = []
  const runtime = await startRuntime(loaded.value, { log: logger, observe: (e) => events.push(e) })
  const url = runtime.url!
  const sims = new Map<string, WeChatSimulator>()
  const sim = (accountId: string, o: { encrypt?: boolean } = {}) => {
    const key = `${accountId}:${o.encrypt}`
    let s = sims.get(key)
    if (!s) {
      const account = accounts.find((a) => a.id === accountId)
      if (!account) throw new Error(`no account ${accountId}`)
      s = createWeChatSimulator({ account, encrypt: o.encrypt })
      sims.set(key, s)
    }
    return s
  }
  return {
    runtime,
    url,
    dir,
    lines,
    events,
    sim,
    async post(accountId, fields, o) {
      const s = sim(accountId, o)
      const req = s.request(fields)
      const res = await fetch(`${url}/wechat/${accountId}?${req.search}`, { method: 'POST', body: req.body, headers: { 'content-type': 'text/xml' } })
      const body = await res.text()
      const opened = s.openReply(body)
      if (opened.error) throw new Error(`reply could not be opened: ${opened.error}: ${body}`)
      // Every reply read as WeChat reads it (its envelope, CreateTime, elements): a wrong one fails the test.
      const problems = replyProblems(req, opened, { newsLimits: runtime.config.limits })
      if (problems.length > 0) throw new Error(`WeChat would not show the engine's reply: ${problems.join('; ')}\n${body}`)
      return { status: res.status, body, reply: opened.fields }
    },
    async close() {
      await runtime.close()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
