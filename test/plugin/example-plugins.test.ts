/** The plugins shipped in plugins/, exercised through PluginSet.invoke as the engine calls them. */
import assert from 'node:assert/strict'
import { after, before, describe, test } from 'node:test'
import {
  applySessionOps,
  click,
  EXAMPLES_DIR,
  exactMatch,
  image,
  loadPlugins,
  location,
  locationReport,
  regexMatch,
  replyOf,
  textOf,
  text,
  type Harness,
  type SessionSnapshot,
} from './plugin-test-kit.ts'

let h: Harness

before(async () => {
  h = await loadPlugins({
    dir: EXAMPLES_DIR,
    only: ['echo', 'survey', 'order', 'news-demo', 'location-responder', 'menu-click'],
    settings: { 'menu-click': { config: { replies: { V1001_TODAY: 'Today: sunny', V1002_HELP: 'Send "help".' } } } },
  })
  assert.deepEqual(h.errors, [])
})
after(() => h.dispose())

test('every example plugin loads, with its manifest', () => {
  assert.deepEqual(h.set.names().sort(), ['echo', 'location-responder', 'menu-click', 'news-demo', 'order', 'survey'])
  assert.equal(h.set.manifest('menu-click')?.accepts?.[0], 'click')
})

describe('echo', () => {
  test('replies the whole text without a capture', async () => {
    assert.equal(textOf(await h.call('echo', text('hello there'))), 'hello there')
  })
  test('replies the `text` capture of a regex rule', async () => {
    assert.equal(textOf(await h.call('echo', text('echo 你好'), { match: regexMatch({ text: '你好' }) })), '你好')
  })
  test('passes on what is not text', async () => {
    assert.equal((await h.call('echo', image())).status, 'pass')
  })
})

describe('survey', () => {
  /** Sends messages as one user, carrying the session between them as the engine would. */
  async function converse(user: string, messages: Array<ReturnType<typeof text> | ReturnType<typeof image>>) {
    let session: SessionSnapshot = { active: false, state: undefined }
    const replies: string[] = []
    const opsSeen = []
    for (const m of messages) {
      const outcome = await h.call('survey', { ...m, fromUser: user }, { session })
      replies.push(textOf(outcome))
      opsSeen.push(outcome.sessionOps)
      session = applySessionOps(session, outcome.sessionOps)
    }
    return { replies, session, opsSeen }
  }

  test('asks three questions, saves the answers for the user, and ends the session', async () => {
    const { replies, session, opsSeen } = await converse('surveyed', [
      text('survey'),
      text('a friend'),
      image(),
      text('news'),
      text('more cats'),
    ])
    assert.match(replies[0]!, /^Question 1\/3/)
    assert.deepEqual(opsSeen[0], [{ op: 'begin', ttlMs: 300_000, state: { step: 0, answers: [] } }])
    assert.match(replies[1]!, /^Question 2\/3/)
    assert.match(replies[2]!, /Please answer in text\. Question 2\/3/, 'a picture while locked gets a reminder')
    assert.deepEqual(opsSeen[2], [], 'the reminder changes nothing')
    assert.match(replies[3]!, /^Question 3\/3/)
    assert.match(replies[4]!, /Thank you! Your answers:\n1\. a friend\n2\. news\n3\. more cats/)
    assert.deepEqual(opsSeen[4], [{ op: 'end' }])
    assert.equal(session.active, false)
    assert.deepEqual(await h.store.kv.get('plugin:survey', 'u:surveyed:survey'), {
      answers: ['a friend', 'news', 'more cats'],
      at: 1_700_000_000,
    })
  })

  test('cancel and 取消 end it early, saving nothing', async () => {
    for (const word of ['cancel', '取消', 'CANCEL']) {
      const user = `quitter-${word}`
      const { replies, session } = await converse(user, [text('survey'), text('first answer'), text(word)])
      assert.match(replies[2]!, /cancelled/)
      assert.equal(session.active, false)
      assert.equal(await h.store.kv.get('plugin:survey', `u:${user}:survey`), undefined)
    }
  })

  test('each answer keeps the lock alive for another 300 s', async () => {
    const started = applySessionOps({ active: false, state: undefined }, (await h.call('survey', text('survey'))).sessionOps)
    const outcome = await h.call('survey', text('answer'), { session: started })
    assert.deepEqual(outcome.sessionOps, [
      { op: 'update', state: { step: 1, answers: ['answer'] } },
      { op: 'refresh', ttlMs: 300_000 },
    ])
  })
})

describe('news-demo', () => {
  test('answers one article with defaults', async () => {
    const reply = replyOf(await h.call('news-demo', text('news')))
    assert.equal(reply.type, 'news')
    assert.equal(reply.type === 'news' && reply.articles.length, 1)
    assert.equal(reply.type === 'news' && reply.articles[0]?.title, 'wxengine')
  })
  test('rule args override title and url; a non-string arg is ignored', async () => {
    const match = exactMatch('docs', { title: 'Read the docs', url: 'https://example.com/docs', description: 42 })
    const reply = replyOf(await h.call('news-demo', text('docs'), { match }))
    assert.deepEqual(reply, {
      type: 'news',
      articles: [
        {
          title: 'Read the docs',
          description: 'A plugin-based chatbot engine for WeChat Official Accounts.',
          url: 'https://example.com/docs',
          picUrl: 'https://example.com/wxengine/cover.png',
        },
      ],
    })
  })
})

describe('location-responder', () => {
  test('answers a location with its label and coordinates', async () => {
    assert.equal(textOf(await h.call('location-responder', location('广州塔', 23.1066, 113.3245))), '广州塔 is at latitude 23.1066, longitude 113.3245.')
  })
  test('a location without a label still gets coordinates', async () => {
    assert.match(textOf(await h.call('location-responder', location('', 1.5, -2))), /^That place is at latitude 1.5, longitude -2\.$/)
  })
  test('passes the automatic location report', async () => {
    assert.equal((await h.call('location-responder', locationReport())).status, 'pass')
  })
})

describe('menu-click', () => {
  test('answers a configured EventKey', async () => {
    assert.equal(textOf(await h.call('menu-click', click('V1001_TODAY'))), 'Today: sunny')
    assert.equal(textOf(await h.call('menu-click', click('V1002_HELP'))), 'Send "help".')
  })
  test('an unknown key gets the schema default fallback', async () => {
    assert.equal(textOf(await h.call('menu-click', click('NOPE'))), 'This button is not set up yet.')
  })
  test('passes on anything but a click', async () => {
    assert.equal((await h.call('menu-click', text('V1001_TODAY'))).status, 'pass')
  })
})

describe('menu-click config', () => {
  test('an empty fallback passes unknown keys; a bad config does not load', async () => {
    const passing = await loadPlugins({ dir: EXAMPLES_DIR, only: ['menu-click'], settings: { 'menu-click': { config: { fallback: '' } } } })
    try {
      assert.equal((await passing.call('menu-click', click('NOPE'))).status, 'pass')
    } finally {
      await passing.dispose()
    }
    const bad = await loadPlugins({ dir: EXAMPLES_DIR, only: ['menu-click'], settings: { 'menu-click': { config: { replies: { K: 3 } } } } })
    await bad.dispose()
    assert.equal(bad.set.has('menu-click'), false)
    assert.equal(bad.errors.length, 1)
    assert.match(bad.errors[0]!.reason, /plugin menu-click: config invalid \(plugins\.menu-click\.config in engine\.config\.ts\): \/replies\/K must be string/)
  })
})
