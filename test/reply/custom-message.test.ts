import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { toCustomMessage } from '../../core/reply/custom-message.ts'
import type { Reply } from '../../core/reply/reply-types.ts'
import type { CustomMessage } from '../../core/reply/custom-message-types.ts'

const OPENID = 'oUser123'

describe('toCustomMessage (protocol.md §6)', () => {
  const sendable: Array<[Reply, Record<string, unknown>]> = [
    [{ type: 'text', content: '稍等，结果来了' }, { msgtype: 'text', text: { content: '稍等，结果来了' } }],
    [{ type: 'image', mediaId: 'M' }, { msgtype: 'image', image: { media_id: 'M' } }],
    [{ type: 'voice', mediaId: 'V' }, { msgtype: 'voice', voice: { media_id: 'V' } }],
    [
      { type: 'video', mediaId: 'V', thumbMediaId: 'TH', title: 'T', description: 'D' },
      { msgtype: 'video', video: { media_id: 'V', thumb_media_id: 'TH', title: 'T', description: 'D' } },
    ],
    [{ type: 'video', mediaId: 'V', thumbMediaId: 'TH' }, { msgtype: 'video', video: { media_id: 'V', thumb_media_id: 'TH' } }],
    [
      { type: 'music', title: 'T', description: 'D', musicUrl: 'https://m', hqMusicUrl: 'https://hq', thumbMediaId: 'TH' },
      {
        msgtype: 'music',
        music: { title: 'T', description: 'D', musicurl: 'https://m', hqmusicurl: 'https://hq', thumb_media_id: 'TH' },
      },
    ],
    [
      { type: 'news', articles: [{ title: 'A', description: 'a', url: 'https://u', picUrl: 'https://p' }] },
      { msgtype: 'news', news: { articles: [{ title: 'A', description: 'a', url: 'https://u', picurl: 'https://p' }] } },
    ],
  ]
  for (const [reply, expected] of sendable) {
    it(`${reply.type}${Object.keys(reply).length <= 2 ? ' (minimal)' : ''}`, () => {
      const result = toCustomMessage(OPENID, reply)
      assert.deepEqual(result, { ok: true, value: { touser: OPENID, ...expected } })
      // The body is sent as JSON: nothing may be lost or become null on the way.
      assert.deepEqual(JSON.parse(JSON.stringify(result.ok && result.value)), { touser: OPENID, ...expected })
    })
  }

  it('sends only the first news article (the API refuses more than one with 45008)', () => {
    const result = toCustomMessage(OPENID, { type: 'news', articles: [{ title: 'A' }, { title: 'B' }] })
    assert.deepEqual(result, { ok: true, value: { touser: OPENID, msgtype: 'news', news: { articles: [{ title: 'A' }] } } })
  })

  const notSendable: Array<[Reply, RegExp]> = [
    [{ type: 'transfer_customer_service', kfAccount: 'kf' }, /only works as a passive reply/],
    [{ type: 'none' }, /nothing to send/],
    [{ type: 'news', articles: [] }, /no articles/],
    // Complete as a passive reply, not as a customer-service message (protocol.md §6; the platform answers 40007).
    [{ type: 'video', mediaId: 'V', title: 'T' }, /no thumbMediaId, which the customer-service API requires/],
  ]
  for (const [reply, reason] of notSendable) {
    it(`refuses ${reply.type}${reply.type === 'news' ? ' without articles' : reply.type === 'video' ? ' without a thumbnail' : ''} as an error value`, () => {
      const result = toCustomMessage(OPENID, reply)
      assert.equal(result.ok, false)
      if (result.ok) return
      assert.equal(result.error.code, 'PLUGIN_BAD_REPLY')
      assert.match(result.error.reason, reason)
    })
  }

  it('a customer-service-only message: keys in the documented order, customservice last', () => {
    const message: CustomMessage = { type: 'msgmenu', tailContent: 'T', list: [{ content: 'A', id: '1' }], headContent: 'H' }
    const result = toCustomMessage(OPENID, message, { kfAccount: 'kf1@wx' })
    assert.ok(result.ok)
    assert.equal(
      JSON.stringify(result.value),
      '{"touser":"oUser123","msgtype":"msgmenu","msgmenu":{"head_content":"H","list":[{"id":"1","content":"A"}],"tail_content":"T"},"customservice":{"kf_account":"kf1@wx"}}',
    )
  })

  it('refuses send options it does not know', () => {
    const result = toCustomMessage(OPENID, { type: 'text', content: 'x' }, { kfAcount: 'kf1@wx' } as never)
    assert.equal(result.ok, false)
    if (!result.ok) assert.match(result.error.reason, /unknown key\(s\) "kfAcount" \(only kfAccount\)/)
  })
})
