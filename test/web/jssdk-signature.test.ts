import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import { jsSdkConfig, randomNonce, signedPart, signJsSdk } from '../../core/web/jssdk-signature.ts'

// The worked example of WeChat's JS-SDK document (附录1-JS-SDK使用权限签名算法).
const TICKET = 'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg'

test("the JS-SDK document's example signs to its published signature", () => {
  assert.equal(signJsSdk(TICKET, 'Wm3WZYTPz0wzccnW', 1414587457, 'http://mp.weixin.qq.com?params=value'), '0f9de62fce790f9a083d5c99e95740ceb90c27ed')
})

test('the fragment is no part of the signed url; nothing else of the url is changed', () => {
  const signed = signJsSdk(TICKET, 'Wm3WZYTPz0wzccnW', 1414587457, 'http://mp.weixin.qq.com?params=value#/order/7')
  assert.equal(signed, '0f9de62fce790f9a083d5c99e95740ceb90c27ed')
  // A URL parser would write https://h5.example.com/?a=%7e: the page's own string is what WeChat signs.
  assert.equal(signedPart('https://h5.example.com?a=%7e&b=中#x'), 'https://h5.example.com?a=%7e&b=中')
  const expected = createHash('sha1').update('jsapi_ticket=T&noncestr=N&timestamp=1&url=https://h5.example.com?a=%7e&b=中').digest('hex')
  assert.equal(signJsSdk('T', 'N', 1, 'https://h5.example.com?a=%7e&b=中#x'), expected)
})

test('a config: the appId, the time in seconds, a fresh nonce of 16 letters and digits, and its signature', () => {
  const a = jsSdkConfig('wxapp', TICKET, 'https://h5.example.com/pay', 1_700_000_000_999)
  assert.equal(a.appId, 'wxapp')
  assert.equal(a.timestamp, 1_700_000_000)
  assert.match(a.nonceStr, /^[A-Za-z0-9]{16}$/)
  assert.equal(a.signature, signJsSdk(TICKET, a.nonceStr, a.timestamp, 'https://h5.example.com/pay'))
  const b = jsSdkConfig('wxapp', TICKET, 'https://h5.example.com/pay', 1_700_000_000_999)
  assert.notEqual(a.nonceStr, b.nonceStr)
  assert.equal(new Set(Array.from({ length: 200 }, () => randomNonce())).size, 200)
})
