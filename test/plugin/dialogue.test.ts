/**
 * `dialogue()` (core/plugin/dialogue.ts) as plugins get it: plugin folders loaded by the engine, each in
 * its worker and sandbox, importing it from `wxengine/plugin`; the session is carried between the calls
 * as the engine would, so the state is only what the recorded calls said.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { dialogue, type InboundMessage, type JsonValue, type RuleMatch } from '../../core/plugin/plugin-api.ts'
import type { SessionOp } from '../../core/plugin/plugin-host-types.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'
import { parseXml } from '../../core/normalize/safe-xml.ts'
import {
  applySessionOps,
  click,
  errorOf,
  image,
  loadPlugins,
  regexMatch,
  replyOf,
  text,
  textOf,
  type Harness,
  type SessionSnapshot,
} from './plugin-test-kit.ts'

const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-dialogue-'))
after(() => rmSync(dir, { recursive: true, force: true }))

function plugin(name: string, source: string): void {
  mkdirSync(path.join(dir, name))
  writeFileSync(path.join(dir, name, 'index.ts'), source)
}

plugin(
  'pizza',
  `import { definePlugin, dialogue } from 'wxengine/plugin'
interface Pizza { size: 'S' | 'M' | 'L'; count: number; name: string }
export default definePlugin({
  name: 'pizza',
  handle: dialogue<Pizza>({
    ttlSeconds: 120,
    cancel: ['cancel', '取消'],
    cancelled: (so) => 'Cancelled after ' + Object.keys(so).length + ' answers.',
    prefill: (ctx) => ({ size: ctx.match.groups.size }),
    steps: [
      { key: 'size', ask: 'Size?', parse: (t) => (/^[sml]$/i.test(t) ? (t.toUpperCase() as Pizza['size']) : undefined), retry: 'S, M or L, please.' },
      {
        key: 'count',
        ask: (so) => 'How many ' + so.size + '?',
        parse: (t) => { if (t === 'boom') throw new RangeError('parse bug'); return /^\\d+$/.test(t) ? Number(t) : undefined },
        retry: (t, so) => JSON.stringify(t) + ' is not a count of ' + so.size + '.',
      },
      { key: 'name', ask: { type: 'news', articles: [{ title: 'Your name?', url: 'https://example.com' }] } },
    ],
    async done(order, ctx) {
      await ctx.storage.user.set('last', order)
      return ctx.reply.text('Done: ' + JSON.stringify(order) + ', session active: ' + ctx.session.active)
    },
  }),
})
`,
)
// The spec's defaults: no cancel words, 'Cancelled.', the question again as the retry and after "please answer in text".
// Called from the plugin's own handle, as a plugin that checks something first does.
plugin(
  'plain',
  `import { definePlugin, dialogue, type DialogueState } from 'wxengine/plugin'
interface Trip { city: string; days: number }
const planning = dialogue<Trip>({
  ttlSeconds: 60,
  prefill: (ctx) => ({ city: ctx.match.groups.city, days: ctx.match.groups.days }),
  steps: [
    { key: 'city', ask: 'Which city?' },
    { key: 'days', ask: ({ city }) => 'How many days in ' + city + '?', parse: (t) => (/^[1-9]$/.test(t) ? Number(t) : undefined) },
  ],
  done: ({ city, days }) => city + ' for ' + days,
})
export default definePlugin<Record<string, never>, DialogueState<Trip>>({
  name: 'plain',
  handle: (ctx) => (ctx.message.kind === 'text' && ctx.message.content === 'closed' ? 'Closed today.' : planning(ctx)),
})
`,
)
// A step that reads the plugin's config in its parse, and answers that are falsy but real (0, null).
plugin(
  'party',
  `import { definePlugin, dialogue } from 'wxengine/plugin'
interface Config { max: number }
interface Table { guests: number; remark: string | null }
export default definePlugin({
  name: 'party',
  handle: dialogue<Table, Config>({
    ttlSeconds: 60,
    prefill: (ctx) => ({ guests: ctx.match.groups.guests }),
    steps: [
      {
        key: 'guests',
        ask: (so, ctx) => 'How many, up to ' + ctx.config.max + '?',
        parse: (t, so, ctx) => { const n = Number(t); return Number.isInteger(n) && n >= 0 && n <= ctx.config.max ? n : undefined },
      },
      { key: 'remark', ask: 'Remark? (- for none)', parse: (t) => (t === '-' ? null : t) },
    ],
    done: ({ guests, remark }) => guests + ' guests, remark ' + JSON.stringify(remark),
  }),
})
`,
)
// `parse: Number`, the mistake this catches: NaN for a text that is no number, which the session state cannot hold.
plugin(
  'numbers',
  `import { definePlugin, dialogue } from 'wxengine/plugin'
export default definePlugin({
  name: 'numbers',
  handle: dialogue<{ label: string; n: number }>({
    ttlSeconds: 60,
    prefill: (ctx) => ({ n: ctx.match.groups.n }),
    steps: [{ key: 'label', ask: 'Label?' }, { key: 'n', ask: 'A number?', parse: Number }],
    done: ({ n }) => 'n=' + n,
  }),
})
`,
)
// Prompt functions written with braces and no return (no type check at load, so they run as written).
plugin(
  'noreturn',
  `import { definePlugin, dialogue } from 'wxengine/plugin'
export default definePlugin({
  name: 'noreturn',
  handle: dialogue<any>({
    ttlSeconds: 60,
    steps: [
      { key: 'a', ask: 'A?', parse: (t: string) => (t === 'bad' ? undefined : t), retry: (t: string) => { 'not ' + t } },
      { key: 'b', ask: (so: any) => { 'B after ' + so.a + '?' } },
    ],
    done: (o: any) => { 'saved ' + o.a },
  }),
})
`,
)
const broken = (name: string, spec: string) =>
  plugin(name, `import { definePlugin, dialogue } from 'wxengine/plugin'\nexport default definePlugin({\n  name: '${name}',\n  handle: dialogue<any>(${spec}),\n})\n`)
plugin(
  'numberask',
  `import { definePlugin, dialogue } from 'wxengine/plugin'
export default definePlugin({
  name: 'numberask',
  handle: dialogue<any>({ ttlSeconds: 60, steps: [{ key: 'a', ask: 'A?' }, { key: 'b', ask: () => 42 as any }], done: () => 'x' }),
})
`,
)
broken('twice', `{ ttlSeconds: 60, steps: [{ key: 'a', ask: 'A?' }, { key: 'a', ask: 'A again?' }], done: () => 'x' }`)
broken('nosteps', `{ ttlSeconds: 60, steps: [], done: () => 'x' }`)
broken('nottl', `{ ttlSeconds: 0, steps: [{ key: 'a', ask: 'A?' }], done: () => 'x' }`)
broken('tinyttl', `{ ttlSeconds: 0.0001, steps: [{ key: 'a', ask: 'A?' }], done: () => 'x' }`)

let h: Harness

before(async () => {
  h = await loadPlugins({ dir, only: ['pizza', 'plain', 'party', 'numbers', 'noreturn', 'numberask', 'twice', 'nosteps', 'nottl', 'tinyttl'], settings: { party: { config: { max: 8 } } } })
})
after(() => h.dispose())

/** One user's messages to `name` in turn, the session carried from each call to the next as the engine applies it. */
function conversation(name: string, session: SessionSnapshot = { active: false, state: undefined }) {
  return {
    get session() {
      return session
    },
    async send(message: InboundMessage, match?: RuleMatch) {
      const outcome = await h.call(name, message, { session, match })
      if (outcome.status !== 'error') session = applySessionOps(session, outcome.sessionOps)
      return outcome
    },
  }
}

const opsOf = (outcome: { sessionOps: SessionOp[] }) => outcome.sessionOps

describe('a dialogue from first question to done', () => {
  test('asks each step, refuses what parse refuses, and hands done every answer after ending the session', async () => {
    const c = conversation('pizza')
    const first = await c.send(text('pizza'))
    assert.equal(textOf(first), 'Size?')
    assert.deepEqual(opsOf(first), [{ op: 'begin', ttlMs: 120_000, state: { asking: 'size', answers: {} } }])

    const refused = await c.send(text('XL'))
    assert.equal(textOf(refused), 'S, M or L, please.')
    assert.deepEqual(opsOf(refused), [{ op: 'refresh', ttlMs: 120_000 }], 'a refused answer keeps the question open and restarts the clock')

    const second = await c.send(text('  m '))
    assert.equal(textOf(second), 'How many M?', 'the question is made from the answers so far; the text is trimmed')
    assert.deepEqual(opsOf(second), [
      { op: 'update', state: { asking: 'count', answers: { size: 'M' } } },
      { op: 'refresh', ttlMs: 120_000 },
    ])

    assert.equal(textOf(await c.send(text('two'))), '"two" is not a count of M.', 'a retry function gets the text and the answers')
    const third = await c.send(text('2'))
    assert.deepEqual(replyOf(third), { type: 'news', articles: [{ title: 'Your name?', url: 'https://example.com' }] }, 'a question may be any reply')

    const last = await c.send(text('Ann'))
    assert.equal(textOf(last), 'Done: {"size":"M","count":2,"name":"Ann"}, session active: false')
    assert.deepEqual(opsOf(last), [{ op: 'end' }])
    assert.deepEqual(c.session, { active: false, state: undefined })
    assert.deepEqual(await h.store.kv.get('plugin:pizza', 'u:user-a:last'), { size: 'M', count: 2, name: 'Ann' }, 'done ran with the real ctx.storage')
  })

  test("prefill answers a step from the rule's capture, through its parse", async () => {
    const c = conversation('pizza')
    assert.equal(textOf(await c.send(text('pizza l'), regexMatch({ size: 'l' }))), 'How many L?')
    assert.deepEqual(c.session.state, { asking: 'count', answers: { size: 'L' } })

    const refusedCapture = conversation('pizza')
    assert.equal(textOf(await refusedCapture.send(text('pizza x'), regexMatch({ size: 'x' }))), 'Size?', 'a capture parse refuses is asked for')
  })

  test('answered all by prefill, done answers at once, with no session', async () => {
    const c = conversation('plain')
    const at = await c.send(text('trip Lhasa 4'), regexMatch({ city: 'Lhasa', days: '4' }))
    assert.equal(textOf(at), 'Lhasa for 4')
    assert.deepEqual(opsOf(at), [])
  })

  test('defaults: no parse takes the text (not an empty one), the question again as the retry', async () => {
    const c = conversation('plain')
    assert.equal(textOf(await c.send(text('weather'))), 'Which city?')
    assert.equal(textOf(await c.send(text('   '))), 'Which city?')
    assert.equal(textOf(await c.send(text('Xi’an'))), 'How many days in Xi’an?')
    assert.equal(textOf(await c.send(text('0'))), 'How many days in Xi’an?')
    assert.equal(textOf(await c.send(text('3'))), 'Xi’an for 3')
  })
})

describe('parse', () => {
  test("gets ctx, as ask and retry do (a limit from the plugin's config); 0 and null are answers", async () => {
    const c = conversation('party')
    assert.equal(textOf(await c.send(text('table'))), 'How many, up to 8?')
    assert.equal(textOf(await c.send(text('9'))), 'How many, up to 8?', 'over the configured limit: refused')
    assert.equal(textOf(await c.send(text('0'))), 'Remark? (- for none)')
    assert.deepEqual(c.session.state, { asking: 'remark', answers: { guests: 0 } })
    assert.equal(textOf(await c.send(text('-'))), '0 guests, remark null')
  })

  test('is not given a blank answer or capture (Number("") is 0): the question is asked again', async () => {
    const c = conversation('party')
    await c.send(text('table'))
    const blank = await c.send(text(' \n\u3000 '))
    assert.equal(textOf(blank), 'How many, up to 8?')
    assert.deepEqual(opsOf(blank), [{ op: 'refresh', ttlMs: 60_000 }])

    const captured = conversation('party')
    assert.equal(textOf(await captured.send(text('table '), regexMatch({ guests: ' ' }))), 'How many, up to 8?')
    assert.deepEqual(captured.session.state, { asking: 'guests', answers: {} })
  })

  test('gets the answer trimmed of invisible characters at its ends, as rules trim it (a pasted "3\u200b" is 3)', async () => {
    for (const answer of ['3\u200b', '\u2060 3', '\ufeff3\u200d ']) {
      const c = conversation('party')
      await c.send(text('table'))
      assert.equal(textOf(await c.send(text(answer))), 'Remark? (- for none)', JSON.stringify(answer))
      assert.deepEqual(c.session.state, { asking: 'remark', answers: { guests: 3 } }, JSON.stringify(answer))
    }
  })

  test('is typed with ctx for the config type (checked by tsc)', () => {
    interface Config { max: number }
    const handle = dialogue<{ guests: number }, Config>({
      ttlSeconds: 60,
      steps: [{ key: 'guests', ask: 'How many?', parse: (t, so, ctx) => (Number(t) <= ctx.config.max ? Number(t) : undefined) }],
      done: ({ guests }) => String(guests),
    })
    assert.equal(typeof handle, 'function')
  })
})

describe('done', () => {
  test('must return the reply: one that returns nothing does not compile (it would pass the last answer to the default reply)', () => {
    const handle = dialogue<{ name: string }>({
      ttlSeconds: 60,
      steps: [{ key: 'name', ask: 'Name?' }],
      // @ts-expect-error: returns nothing, which would pass the message after the session ended
      async done() {},
    })
    const passing = dialogue<{ name: string }>({ ttlSeconds: 60, steps: [{ key: 'name', ask: 'Name?' }], done: (so, ctx) => ctx.pass() })
    assert.equal(typeof handle, 'function')
    assert.equal(typeof passing, 'function')
  })
})

describe('while a dialogue is open', () => {
  test('an event goes on down the routing, and changes nothing', async () => {
    const c = conversation('pizza')
    await c.send(text('pizza'))
    const pressed = await c.send(click('V1001_TODAY'))
    assert.equal(pressed.status, 'pass')
    assert.deepEqual(opsOf(pressed), [])
  })

  test('a picture gets "please answer in text" and the open question, and changes nothing', async () => {
    const c = conversation('pizza')
    await c.send(text('pizza'))
    await c.send(text('s'))
    const picture = await c.send(image())
    assert.equal(textOf(picture), 'Please answer in text. How many S?')
    assert.deepEqual(opsOf(picture), [])
    const news = conversation('pizza', { active: true, state: { asking: 'name', answers: { size: 'S', count: 1 } } })
    assert.equal(textOf(await news.send(image())), 'Please answer in text.', 'a question that is not text is not quoted')
  })

  test('a message of a type the engine does not know is no event: "please answer in text" too (found by a routing review)', async () => {
    // Normalized as the engine does: an `unknown` user message held an `event` key, and `'event' in message`
    // passed it on as an event; nothing answered it and the question stayed open unsaid.
    for (const xml of ['<MsgType>hologram</MsgType><MsgId>77</MsgId>', '<MsgType>text</MsgType><Content>a</Content><Content>b</Content><MsgId>78</MsgId>']) {
      const parsed = parseXml(`<xml><ToUserName>gh_1</ToUserName><FromUserName>user-a</FromUserName><CreateTime>1700000000</CreateTime>${xml}</xml>`)
      assert.ok(parsed.ok)
      const normalized = normalizeMessage(parsed.value)
      assert.ok(normalized.ok && normalized.value.kind === 'unknown')
      const c = conversation('pizza')
      await c.send(text('pizza'))
      await c.send(text('s'))
      const answered = await c.send(normalized.value)
      assert.equal(textOf(answered), 'Please answer in text. How many S?', xml)
      assert.deepEqual(opsOf(answered), [])
    }
  })

  test('a cancel word, in any case or width, with spaces or invisible characters at its ends, ends it with the cancelled reply', async () => {
    for (const word of ['cancel', 'CANCEL', ' ＣＡＮＣＥＬ ', '取消', '取消 \u200b', '\u2060 cancel']) {
      const c = conversation('pizza')
      await c.send(text('pizza'))
      await c.send(text('m'))
      const cancelled = await c.send(text(word))
      assert.equal(textOf(cancelled), 'Cancelled after 1 answers.', word)
      assert.deepEqual(opsOf(cancelled), [{ op: 'end' }], word)
    }
    const noWords = conversation('plain')
    await noWords.send(text('weather'))
    assert.equal(textOf(await noWords.send(text('cancel'))), 'How many days in cancel?', 'without `cancel`, no word cancels')
  })

  test('a parse that throws fails the call (a bug of the plugin), and the engine lets the user go', async () => {
    const c = conversation('pizza')
    await c.send(text('pizza'))
    await c.send(text('m'))
    const failed = await c.send(text('boom'))
    assert.match(errorOf(failed).reason, /RangeError: parse bug/)
  })
})

describe('a prompt function that returns nothing (braces without a return)', () => {
  test('fails the call naming the prompt, rather than passing: the user saw the default reply, locked to a question never shown', async () => {
    const c = conversation('noreturn')
    assert.equal(textOf(await c.send(text('noreturn'))), 'A?')
    const ask = errorOf(await c.send(text('yes')))
    assert.equal(ask.code, 'PLUGIN_ERROR')
    assert.match(ask.reason, /^TypeError: dialogue\(\): steps\[1\]\.ask \("b"\) returned undefined; it must return what to say, a string or a reply \(a function with braces needs a return\)/)
    const retry = errorOf(await c.send(text('bad')))
    assert.match(retry.reason, /^TypeError: dialogue\(\): steps\[0\]\.retry \("a"\) returned undefined/)
  })

  test('a prompt that returns a number fails naming the step, not later as "a reply must be an object, got number"', async () => {
    const c = conversation('numberask')
    assert.equal(textOf(await c.send(text('numberask'))), 'A?')
    const ask = errorOf(await c.send(text('yes')))
    assert.match(ask.reason, /^TypeError: dialogue\(\): steps\[1\]\.ask \("b"\) returned a number \(42\); it must return what to say, a string or a reply \(String\(n\) for a number\)/)
  })

  test('a done that returns nothing fails naming it, rather than passing the last answer on to the default reply', async () => {
    const c = conversation('noreturn', { active: true, state: { asking: 'b', answers: { a: 'x' } } })
    const done = errorOf(await c.send(text('y')))
    assert.match(done.reason, /^TypeError: dialogue\(\): done returned undefined; it must return the last reply/)
  })
})

describe('an answer that is not JSON data', () => {
  test('fails the call at parse, naming the step and the text, not later at the state write', async () => {
    const c = conversation('numbers')
    await c.send(text('numbers'))
    await c.send(text('first'))
    assert.equal(textOf(await c.send(text('12'))), 'n=12')

    const d = conversation('numbers')
    await d.send(text('numbers'))
    await d.send(text('first'))
    const failed = await d.send(text('abc'))
    assert.match(errorOf(failed).reason, /TypeError: dialogue\(\): steps\[1\]\.parse \("n"\) made "abc" into an answer that is not JSON data \(.*NaN is not a JSON number\).*Return undefined to refuse a text/)
  })

  test('from a prefill capture too', async () => {
    const failed = await conversation('numbers').send(text('numbers x'), regexMatch({ n: 'x' }))
    assert.match(errorOf(failed).reason, /steps\[1\]\.parse \("n"\) made "x" into an answer that is not JSON data/)
  })
})

describe('a state the dialogue did not write', () => {
  test('a question the plugin no longer has starts over, kept as the first question', async () => {
    const c = conversation('pizza', { active: true, state: { asking: 'crust', answers: { size: 'M', crust: 'thin' } } })
    const restarted = await c.send(text('thin'))
    assert.equal(textOf(restarted), 'Size?')
    assert.deepEqual(opsOf(restarted), [
      { op: 'update', state: { asking: 'size', answers: {} } },
      { op: 'refresh', ttlMs: 120_000 },
    ])
  })

  const malformed: Array<JsonValue | undefined> = [{ step: 7, answers: ['a'] }, 'size', null, { asking: 'size', answers: ['M'] }, undefined]
  for (const state of malformed) {
    test(`a malformed state (${JSON.stringify(state)}) starts over`, async () => {
      const c = conversation('pizza', { active: true, state })
      assert.equal(textOf(await c.send(text('M'))), 'Size?')
      assert.deepEqual(c.session.state, { asking: 'size', answers: {} })
    })
  }

  test('answers to steps since removed are kept out of done', async () => {
    const c = conversation('plain', { active: true, state: { asking: 'days', answers: { city: 'Lhasa', budget: 100 } } })
    assert.equal(textOf(await c.send(text('4'))), 'Lhasa for 4')
  })
})

describe('a spec that cannot work', () => {
  test('is refused when the plugin loads, with a TypeError saying what and where', () => {
    const reasons = new Map(h.errors.map((e) => [/plugin (\S+?):/.exec(e.reason)?.[1], e.reason]))
    const at = (name: string) => `(at ${path.join(dir, name, 'index.ts')}:4:`
    assert.match(reasons.get('twice') ?? '', /TypeError: dialogue\(\): steps\[1\]\.key "a" is used twice/)
    assert.ok(reasons.get('twice')?.includes(at('twice')), reasons.get('twice'))
    assert.match(reasons.get('nosteps') ?? '', /TypeError: dialogue\(\): steps must be a non-empty array/)
    assert.match(reasons.get('nottl') ?? '', /TypeError: dialogue\(\): ttlSeconds must be a number of seconds from 1 to 315360000 \(ten years\), got 0/)
    // As session.begin refuses it: a dialogue whose every question lapsed at once.
    assert.match(reasons.get('tinyttl') ?? '', /TypeError: dialogue\(\): ttlSeconds must be a number of seconds from 1 to 315360000 \(ten years\), got 0\.0001/)
    assert.deepEqual(h.set.names().sort(), ['noreturn', 'numberask', 'numbers', 'party', 'pizza', 'plain'])
  })
})
