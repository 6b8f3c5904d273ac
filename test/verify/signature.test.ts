import { createHash } from 'node:crypto'
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { computeSignature, verifyMsgSignature, verifySignature } from '../../core/verify/signature.ts'

const sha1 = (text: string) => createHash('sha1').update(text, 'utf8').digest('hex')

describe('computeSignature', () => {
  it('is sha1 of the parts sorted and joined (protocol.md §1)', () => {
    // Sorted by hand: '1409304348' < 'pamtest' < 'xxxxxx'.
    assert.equal(computeSignature(['pamtest', '1409304348', 'xxxxxx']), sha1('1409304348pamtestxxxxxx'))
  })

  it('gives the same signature for every order of the parts', () => {
    const parts = ['token', '1700000000', '123456', 'Encrypt+/=']
    const expected = sha1('123456' + '1700000000' + 'Encrypt+/=' + 'token')
    const orders = [parts, [...parts].reverse(), [parts[2], parts[0], parts[3], parts[1]]]
    for (const order of orders) assert.equal(computeSignature(order), expected)
  })

  it('sorts as strings, not numbers, and upper case before lower case', () => {
    assert.equal(computeSignature(['9', '10']), sha1('109'))
    assert.equal(computeSignature(['b', 'B', 'a']), sha1('Bab'))
  })

  it('does not reorder the caller’s array', () => {
    const parts = ['z', 'a']
    computeSignature(parts)
    assert.deepEqual(parts, ['z', 'a'])
  })
})

describe('verifySignature', () => {
  const token = 'pamtest'
  const timestamp = '1409304348'
  const nonce = 'xxxxxx'
  const good = sha1([token, timestamp, nonce].sort().join(''))

  it('accepts the right signature', () => {
    assert.equal(verifySignature(token, timestamp, nonce, good), true)
  })

  it('accepts the hex digest in upper case', () => {
    assert.equal(verifySignature(token, timestamp, nonce, good.toUpperCase()), true)
  })

  it('refuses a different token, timestamp or nonce', () => {
    assert.equal(verifySignature('other', timestamp, nonce, good), false)
    assert.equal(verifySignature(token, '1409304349', nonce, good), false)
    assert.equal(verifySignature(token, timestamp, 'xxxxxy', good), false)
  })

  it('refuses a signature with one digit changed, at every position and to every other digit', () => {
    for (let i = 0; i < 40; i++) {
      for (const digit of '0123456789abcdefABCDEF') {
        if (digit.toLowerCase() === good[i]) continue
        const changed = good.slice(0, i) + digit + good.slice(i + 1)
        assert.equal(verifySignature(token, timestamp, nonce, changed), false, `position ${i} -> ${digit}`)
      }
    }
  })

  // Wrong shapes must come back false, not throw.
  const malformed: Array<[string, unknown]> = [
    ['empty', ''],
    ['39 characters', good.slice(0, -1)],
    ['41 characters', good + '0'],
    ['80 characters', good + good],
    ['40 non-hex characters', 'z'.repeat(40)],
    ['hex with a space', ` ${good.slice(1)}`],
    ['multibyte 40 characters', '中'.repeat(40)],
    ['an array (repeated query parameter)', [good, good]],
    ['undefined', undefined],
    ['a number', 12345],
  ]
  for (const [what, value] of malformed) {
    it(`returns false without throwing for ${what}`, () => {
      assert.equal(verifySignature(token, timestamp, nonce, value as string), false)
    })
  }
})

describe('verifyMsgSignature', () => {
  const token = 'pamtest'
  const timestamp = '1409304348'
  const nonce = 'xxxxxx'
  const encrypt = 'jn1L23DB+6ELqJ+6bruv21Y6MD7KeIfP82D6gU39rmkgczbWwt5+3bnyg5K55bgVtVzd832WzZGMhkP72vVOfg=='
  const good = sha1([token, timestamp, nonce, encrypt].sort().join(''))

  it('covers the Encrypt element as the fourth part (protocol.md §2)', () => {
    assert.equal(verifyMsgSignature(token, timestamp, nonce, encrypt, good), true)
    assert.equal(verifyMsgSignature(token, timestamp, nonce, encrypt.replace('jn1', 'jn2'), good), false)
  })

  it('is not the plain signature', () => {
    assert.equal(verifyMsgSignature(token, timestamp, nonce, encrypt, sha1([token, timestamp, nonce].sort().join(''))), false)
  })

  it('returns false for wrong lengths and non-hex', () => {
    for (const bad of ['', good.slice(2), `${good}ab`, 'g'.repeat(40)]) {
      assert.equal(verifyMsgSignature(token, timestamp, nonce, encrypt, bad), false)
    }
  })
})
