/**
 * Generated bad input against a running engine (fast-check), beside the hand-made cases of wire.test.ts:
 * pushes of every fixture type with edits in them, signed (and in the encrypted modes encrypted) exactly as
 * WeChat would, so each gets past the signature and reaches the XML reader, the flat record and the router;
 * and real pushes with their query edited. Whatever comes in, the answer is a 200 with a reply that opens,
 * or a 4xx whose reason is in a warning line; never a 5xx, never an error line; and the engine answers the
 * next real message.
 */
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import fc from '../support/fast-check.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'

const RULES = `
rules:
  - name: hello
    keywords:
      - exact: hello
    reply: { type: text, content: "Hello ]]> & 你好" }
  - name: anything
    keywords:
      - regex: "a.*b"
    reply: { type: news, articles: [{ title: A, url: "https://example.com/a" }, { title: B, url: "https://example.com/b" }] }
handlers:
  - type: click
    reply: { type: text, content: clicked }
  - type: location
    reply: { type: text, content: where }
default:
  reply: { type: text, content: nothing matched }
welcome:
  reply: { type: text, content: welcome! }
`

const FIXTURES = new URL('../fixtures/messages/', import.meta.url)
const fixtures = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.xml'))
  .map((f) => readFileSync(new URL(f, FIXTURES), 'utf8'))

type Edit = { at: number; text: string; cut: number }
/** Up to four edits: at a position, `cut` characters removed and `text` put in their place. */
const edits = fc.array(
  fc.record({
    at: fc.nat(),
    cut: fc.nat(4),
    text: fc.oneof(fc.string({ unit: 'binary', maxLength: 4 }), fc.constantFrom('<', '</', '>', '&', ']]>', '<![CDATA[', '<!DOCTYPE x>', '&#0;', '\uD800', '<a>', '')),
  }),
  { minLength: 1, maxLength: 4 },
)
function applyEdits(body: string, list: Edit[]): string {
  let out = body
  for (const e of list) {
    const at = out.length === 0 ? 0 : e.at % (out.length + 1)
    out = out.slice(0, at) + e.text + out.slice(at + e.cut)
  }
  return out
}

describe('wire under generated bad input', () => {
  let h: Harness
  before(async () => {
    h = await startHarness({ rules: { 'main.yaml': RULES } })
  })
  after(() => h.close())

  /** Checks one answer: 200 with a reply that opens, or a 4xx said in a warning line. Returns the status. */
  async function send(accountId: string, path: string, body: string, encrypted: boolean): Promise<number> {
    const linesBefore = h.lines.length
    const res = await fetch(`${h.url}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/xml' } })
    const text = await res.text()
    assert.ok(res.status === 200 || (res.status >= 400 && res.status < 500), `status ${res.status}: ${text}`)
    if (res.status === 200) {
      const opened = h.sim(accountId, { encrypt: encrypted }).openReply(text)
      assert.equal(opened.error, undefined, `the reply does not open: ${text}`)
    } else {
      // The engine may say so in a line budgeted per code (log floods), so the line is looked for since the
      // start of the run, not only in this request's lines: a code refused before has its line already.
      assert.ok(h.lines.some((l) => l.code === text.trim() && l.level === 40), `no warning line for ${res.status} ${text}`)
    }
    const errors = h.lines.slice(linesBefore).filter((l) => (l.level as number) >= 50)
    assert.deepEqual(errors, [], 'an error line for input a client sent')
    return res.status
  }

  for (const [accountId, encrypted] of [['plain', false], ['compat', true], ['safe', true]] as const) {
    it(`${accountId}: edited pushes of every type, signed${encrypted ? ' and encrypted' : ''} as WeChat does, get a 200 or a 4xx`, async () => {
      const seen = new Map<number, number>()
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...fixtures), edits, async (fixture, list) => {
          const req = h.sim(accountId, { encrypt: encrypted }).request(applyEdits(fixture, list))
          const status = await send(accountId, `/wechat/${accountId}?${req.search}`, req.body, encrypted)
          seen.set(status, (seen.get(status) ?? 0) + 1)
        }),
        { numRuns: 250 },
      )
      // The edits reach both ends: pushes still read (and answered) and pushes refused.
      assert.ok((seen.get(200) ?? 0) > 10, JSON.stringify([...seen]))
      assert.ok((seen.get(400) ?? 0) > 10, JSON.stringify([...seen]))
      const res = await h.post(accountId, push.text('o-after-fuzz', 'hello'))
      assert.equal(res.status, 200)
      assert.equal(res.reply?.Content, 'Hello ]]> & 你好')
    })
  }

  it('safe: real pushes with their query edited get a 200 only when the query still verifies, else a 4xx', async () => {
    const params = ['signature', 'timestamp', 'nonce', 'encrypt_type', 'msg_signature', 'openid']
    const queryEdit = fc.record({
      name: fc.constantFrom(...params),
      how: fc.constantFrom('drop', 'empty', 'garble', 'repeat', 'huge'),
      garble: fc.string({ unit: 'binary', minLength: 1, maxLength: 8 }),
    })
    await fc.assert(
      fc.asyncProperty(fc.array(queryEdit, { minLength: 1, maxLength: 3 }), fc.string({ maxLength: 30 }), async (list, content) => {
        const req = h.sim('safe').request(push.text('o-fuzz-query', content))
        const q = new URLSearchParams(req.search)
        for (const e of list) {
          if (e.how === 'drop') q.delete(e.name)
          else if (e.how === 'empty') q.set(e.name, '')
          else if (e.how === 'garble') q.set(e.name, (q.get(e.name) ?? '') + e.garble)
          else if (e.how === 'repeat') q.append(e.name, e.garble)
          else q.set(e.name, 'x'.repeat(5000))
        }
        const status = await send('safe', `/wechat/safe?${q}`, req.body, true)
        // openid is not signed, and a repeated parameter is read as its first value: those edits may pass.
        const harmless = list.every((e) => e.name === 'openid' || e.how === 'repeat')
        if (!harmless) assert.notEqual(status, 200, `accepted with ${JSON.stringify(list)}`)
      }),
      { numRuns: 200 },
    )
  })
})
