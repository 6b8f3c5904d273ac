/**
 * A signed push addressed (ToUserName) to another original id than the account's configured one is served,
 * and said once per addressee: two console accounts on one URL and token, or a wrong originalId.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { ANY_ACCOUNT, push } from '../../core/testkit/wechat-simulator.ts'
import { AES_KEY, startHarness, type Harness } from '../support/engine-harness.ts'

const RULES = `
rules:
  - name: hello
    keywords: [{ exact: hello }]
    reply: { type: text, content: hi }
`

const OWN = 'gh_0123456789ab'

describe('a push addressed to another original id', () => {
  let h: Harness
  before(async () => {
    h = await startHarness({
      rules: { 'main.yaml': RULES },
      accounts: [
        { id: 'known', token: 'knowntoken', appId: 'wxknown000000001', mode: 'plaintext', originalId: OWN },
        { id: 'unset', token: 'unsettoken', appId: 'wxunset000000001', mode: 'safe', encodingAESKey: AES_KEY },
      ],
    })
  })
  after(() => h.close())

  const addresseeLines = (from: number) => h.lines.slice(from).filter((l) => typeof l.msg === 'string' && l.msg.startsWith('push addressed to'))

  it("the simulator sends the account's originalId: answered from it, and nothing said", async () => {
    const from = h.lines.length
    const r = await h.post('known', push.text('u-1', 'hello'))
    assert.equal(r.reply?.Content, 'hi')
    assert.equal(r.reply?.FromUserName, OWN)
    assert.deepEqual(addresseeLines(from), [])
  })

  it('another id is served, and said once per addressee, with the account and both ids', async () => {
    const from = h.lines.length
    for (const to of ['gh_ffffffffffff', 'gh_ffffffffffff', 'gh_eeeeeeeeeeee']) {
      const r = await h.post('known', push.text('u-2', 'hello', { ToUserName: to }))
      assert.equal(r.reply?.Content, 'hi', 'served all the same')
      assert.equal(r.reply?.FromUserName, to, 'answered from the id it was addressed to, as WeChat expects')
    }
    const said = addresseeLines(from)
    assert.deepEqual(said.map((l) => l.toUser), ['"gh_ffffffffffff"', '"gh_eeeeeeeeeeee"'])
    assert.equal(said[0]!.level, 40)
    assert.equal(said[0]!.account, 'known')
    assert.equal(said[0]!.originalId, OWN)
    assert.equal(typeof said[0]!.key, 'string')
    assert.match(String(said[0]!.msg), /not to account known's originalId "gh_0123456789ab": served/)
  })

  it('an account without an originalId says nothing, whatever the addressee (the placeholder included)', async () => {
    const from = h.lines.length
    assert.equal((await h.post('unset', push.text('u-3', 'hello'))).reply?.FromUserName, ANY_ACCOUNT)
    assert.equal((await h.post('unset', push.text('u-3', 'hello', { ToUserName: 'gh_dddddddddddd' }))).reply?.Content, 'hi')
    assert.deepEqual(addresseeLines(from), [])
  })
})
