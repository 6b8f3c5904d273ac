/**
 * An account's pageDomains change with a reload (SIGHUP, `systemctl reload`), as its userGroups do: a real
 * serving runtime given `rereadConfig`, its engine.config.ts rewritten. /jssdk-config signs a page on a domain
 * added, and no longer one on a domain removed; a rules file's news article with `login:` may name a page on
 * the new domain; a login started before a domain was removed is not handed back to it. No restart warning.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { startRuntime, type Runtime } from '../../core/runtime.ts'
import { startFakeWeChatApi, type FakeWeChatApi } from '../../core/testkit/fake-wechat-api.ts'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'

const ACCOUNT = { id: 'main', token: 'maintoken0001', appId: 'wxmain0000000001', appSecret: 'main-secret', mode: 'plaintext' as const }
const SHOP_PAGE = 'https://shop.example.com/cart'
const H5_PAGE = 'https://h5.example.com/order'
const SHOP_RULE = `
rules:
  - name: cart
    keywords: [cart]
    reply:
      type: news
      articles:
        - {title: Cart, url: '${SHOP_PAGE}', login: base}
`

describe('pageDomains changed in engine.config.ts, applied by a reload', () => {
  let dir: string
  let fake: FakeWeChatApi
  let runtime: Runtime
  let lines: Array<Record<string, unknown>>
  const configFile = () => path.join(dir, 'engine.config.ts')
  const writeConfig = (domains: string[], account: Record<string, unknown> = {}) =>
    writeFileSync(
      configFile(),
      `export default {
  port: 0,
  host: '127.0.0.1',
  publicUrl: 'https://wx.example.com',
  defaultAccount: 'main',
  store: { kind: 'memory' },
  platform: { apiBase: ${JSON.stringify(fake.baseUrl)}, openBase: ${JSON.stringify(fake.baseUrl)} },
  accounts: [{ ...${JSON.stringify({ ...ACCOUNT, ...account })}, pageDomains: ${JSON.stringify(domains)} }],
}
`,
    )
  const read = () => loadConfig({ root: dir, env: {} })
  const signs = async (page: string) => {
    const res = await fetch(`${runtime.url}/jssdk-config?url=${encodeURIComponent(page)}`)
    return `${res.status} ${((await res.json()) as { error?: string }).error ?? 'signed'}`
  }

  before(async () => {
    fake = await startFakeWeChatApi({ apps: [{ appId: ACCOUNT.appId, appSecret: ACCOUNT.appSecret }] })
    dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-reload-domains-'))
    mkdirSync(path.join(dir, 'rules'))
    mkdirSync(path.join(dir, 'plugins'))
    writeConfig(['h5.example.com'])
    const loaded = read()
    if (!loaded.ok) throw new Error(loaded.error.reason)
    const memory = createMemoryLogger('debug')
    lines = memory.lines
    runtime = await startRuntime(loaded.value, { log: memory.logger, rereadConfig: { file: configFile(), read } })
  })
  after(async () => {
    await runtime?.close()
    await fake.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('/jssdk-config signs for a domain added and refuses one removed, without a restart', async () => {
    assert.equal(await signs(H5_PAGE), '200 signed')
    assert.equal(await signs(SHOP_PAGE), '400 BAD_QUERY')
    writeConfig(['shop.example.com'])
    assert.equal(await runtime.reload(), true)
    assert.equal(await signs(SHOP_PAGE), '200 signed')
    assert.equal(await signs(H5_PAGE), '400 BAD_QUERY')
    // None left: the endpoint is off for the account, as at a start without any.
    writeConfig([])
    assert.equal(await runtime.reload(), true)
    assert.equal(await signs(SHOP_PAGE), '404 BAD_CONFIG')
    assert.equal(lines.filter((l) => /a restart applies/.test(String(l.msg))).length, 0, 'nothing named for a restart')
  })

  it("a rules file's login: article on a page of a domain the reload adds loads with it, linked through /oauth", async () => {
    writeConfig(['h5.example.com'])
    assert.equal(await runtime.reload(), true)
    writeFileSync(path.join(dir, 'rules', 'cart.yaml'), SHOP_RULE)
    // shop.example.com is not the account's yet: the rules file is refused, saying so.
    assert.equal(await runtime.reload(), false)
    assert.ok(lines.some((l) => l.code === 'RULE_INVALID' && /shop\.example\.com\/cart.*is not under the account's page domains \(h5\.example\.com\)/.test(String(l.msg))))
    writeConfig(['h5.example.com', 'shop.example.com'])
    assert.equal(await runtime.reload(), true)
    const sim = createWeChatSimulator({ account: ACCOUNT })
    const req = sim.request(push.text('oUser0000000000000000000001', 'cart'))
    const res = await fetch(`${runtime.url}/wechat?${new URLSearchParams(req.query as Record<string, string>)}`, { method: 'POST', body: req.body })
    const article = (sim.openReply(await res.text()).fields?.Articles as { item: Record<string, string> }).item
    assert.equal(article.Url, `https://wx.example.com/oauth/main?to=${encodeURIComponent(SHOP_PAGE)}`)
    rmSync(path.join(dir, 'rules', 'cart.yaml'))
  })

  it('a reload says what the start warns of the settings it applies: here an empty user group, until it has someone', async () => {
    const said = () => lines.filter((l) => l.level === 40 && /^account "main" has an empty user group "staff"/.test(String(l.msg))).length
    writeConfig(['h5.example.com'], { userGroups: { staff: [] } })
    assert.equal(await runtime.reload(), true)
    assert.equal(said(), 1)
    writeConfig(['h5.example.com'], { userGroups: { staff: ['oStaff000000000000000000001'] } })
    assert.equal(await runtime.reload(), true)
    assert.equal(said(), 1, 'not said of a group with a member')
  })

  it('a login started before its domain was removed is not handed back to that page', async () => {
    writeConfig(['h5.example.com'])
    assert.equal(await runtime.reload(), true)
    const toWeChat = await fetch(`${runtime.url}/oauth?to=${encodeURIComponent(H5_PAGE)}`, { redirect: 'manual' })
    assert.equal(toWeChat.status, 302)
    const cookie = toWeChat.headers.getSetCookie()[0]!.split(';')[0]!
    const state = new URL(toWeChat.headers.get('location')!).searchParams.get('state')
    writeConfig(['shop.example.com'])
    assert.equal(await runtime.reload(), true)
    const back = await fetch(`${runtime.url}/oauth?code=abc&state=${state}`, { redirect: 'manual', headers: { cookie } })
    assert.equal(back.status, 400)
    assert.match(await back.text(), /^BAD_QUERY: the login's page is no longer one of the account's: "h5\.example\.com\/order" is not under the account's page domains \(shop\.example\.com\)/)
  })
})
