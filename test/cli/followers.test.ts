import assert from 'node:assert/strict'
import path from 'node:path'
import { after, before, test } from 'node:test'
import Database from 'better-sqlite3'
import { SQLITE_FILE_NAME } from '../../core/store/open-store.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { makeProject, pushThroughEngine, type Project } from './cli-harness.ts'

let project: Project
/** The pushes, oldest first: [account, openid, Event, EventKey]. */
const PUSHED: [string, string, string, string | undefined][] = [
  ['default', 'alice', 'subscribe', 'qrscene_1001'],
  ['default', 'bob', 'subscribe', 'qrscene_1001'],
  ['default', 'carol', 'subscribe', 'qrscene_1001'],
  ['default', 'dave', 'subscribe', ''],
  ['default', 'erin', 'subscribe', undefined],
  ['default', 'frank', 'subscribe', 'qrscene_spring'],
  ['default', 'bob', 'unsubscribe', undefined],
  // Gina followed before the engine ran: only her unfollow is seen.
  ['default', 'gina', 'unsubscribe', undefined],
  // Alice leaves and comes back through another code: she counts there now.
  ['default', 'alice', 'unsubscribe', undefined],
  ['default', 'alice', 'subscribe', 'qrscene_spring'],
  // A follower scanning a code (SCAN) is no follow.
  ['default', 'carol', 'SCAN', '1001'],
  ['safe', 'bob', 'subscribe', 'qrscene_1001'],
]

before(async () => {
  project = makeProject()
  await pushThroughEngine(
    project,
    PUSHED.map(([accountId, openId, event, eventKey]) => ({ accountId, fields: push.event(openId, event, eventKey === undefined ? {} : { EventKey: eventKey }) })),
  )
})
after(() => project.remove())

const table = (stdout: string) => stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/))

const PRINTED = [
  ['ACCOUNT', 'SCENE', 'FOLLOWED', 'STILL FOLLOWING', 'UNFOLLOWED'],
  // Ties: by scene, a follow without one first.
  ['default', '-', '2', '2', '0'],
  ['default', '1001', '2', '1', '1'],
  ['default', 'spring', '2', '2', '0'],
  ['default', '(unknown)', '0', '0', '1'],
  ['default', '(total)', '6', '5', '2'],
  ['safe', '1001', '1', '1', '0'],
  ['safe', '(total)', '1', '1', '0'],
]

test('followers: per account and scene, most followed first, with each account total', async () => {
  const r = await project.run(['followers'])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(table(r.stdout), PRINTED)
  // Numbers are right-aligned under their heading.
  assert.match(r.stdout, /^default {2}1001 {14}2 {16}1 {11}1$/m)
  assert.match(r.stderr, /^\(unknown\): unfollows of users the message log never saw follow/)
})

test('followers: --account, --since and --json', async () => {
  const safe = await project.run(['followers', '--account', 'safe', '--json'])
  assert.equal(safe.code, 0, safe.stderr)
  assert.deepEqual(JSON.parse(safe.stdout), [{ account: 'safe', scene: '1001', followed: 1, stillFollowing: 1, unfollowed: 0 }])
  assert.equal(safe.stderr, '')

  const recent = await project.run(['followers', '--since', '1h', '--account', 'default'])
  assert.equal(recent.code, 0, recent.stderr)
  assert.equal(table(recent.stdout).at(-1)!.join(' '), 'default (total) 6 5 2')

  const future = await project.run(['followers', '--since', '2999-01-01'])
  assert.equal(future.code, 0)
  assert.equal(future.stdout, '')
  assert.equal(future.stderr, 'no follows or unfollows recorded since then\n')

  const typo = await project.run(['followers', '--account', 'sfae'])
  assert.equal(typo.code, 2)
  assert.equal(typo.stderr, 'wxengine followers: no account "sfae" in the configuration (did you mean "safe"?); accounts: default, safe\n')

  const since = await project.run(['followers', '--since', 'yesterday'])
  assert.equal(since.code, 2)
  assert.match(since.stderr, /^wxengine followers: --since takes a duration \(30s, 10m, 2h, 7d\) or a date/)
})

test('followers: nothing yet, no log yet, the memory store', async () => {
  // The engine ran on this data directory, but nobody followed: an empty table, said on stderr.
  const fresh = makeProject()
  try {
    await pushThroughEngine(fresh, [])
    const none = await fresh.run(['followers'])
    assert.equal(none.code, 0, none.stderr)
    assert.equal(none.stdout, '')
    assert.equal(none.stderr, 'no follows or unfollows recorded yet\n')
  } finally {
    fresh.remove()
  }

  const never = await project.run(['followers'], { env: { DATA_DIR: `${project.dataDir}-never` } })
  assert.equal(never.code, 0)
  assert.match(never.stderr, /no message log yet: .*wxengine\.db does not exist/)

  const memory = await project.run(['followers'], { env: { STORE: 'memory' } })
  assert.equal(memory.code, 2)
  assert.match(memory.stderr, /the memory store keeps nothing outside the engine process/)
})

test('followers --help says what it cannot know', async () => {
  const r = await project.run(['followers', '--help'])
  assert.equal(r.code, 0)
  assert.match(r.stdout, /is not counted/)
  assert.match(r.stdout, /per DATA_DIR/)
})

test('followers: the same once the users who left are folded into counts (their OpenIDs gone from the file)', async () => {
  const before = await project.run(['followers', '--json'])
  const store = openSqliteStore({ file: path.join(project.dataDir, SQLITE_FILE_NAME) })
  try {
    // What log.purgeOnUnsubscribe, or the log's retention once it has passed, does at a prune.
    assert.equal(await store.log.foldFollowers(Date.now() + 1), 2)
  } finally {
    await store.close()
  }
  const raw = new Database(path.join(project.dataDir, SQLITE_FILE_NAME), { readonly: true })
  assert.deepEqual(raw.prepare("SELECT open_id FROM followers WHERE open_id IN ('bob', 'gina')").pluck().all(), ['bob'], "safe's bob still follows")
  raw.close()

  const r = await project.run(['followers'])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(table(r.stdout), PRINTED)
  assert.match(r.stderr, /^\(unknown\): unfollows of users the message log never saw follow/)
  const json = await project.run(['followers', '--json'])
  assert.deepEqual(JSON.parse(json.stdout), JSON.parse(before.stdout))
  const recent = await project.run(['followers', '--since', '1h', '--account', 'default'])
  assert.equal(table(recent.stdout).at(-1)!.join(' '), 'default (total) 6 5 2')
})

test('followers: a scene that reads as a marker (-, (total), (unknown)) or would break the table (a space, a newline, a quote) is shown JSON-quoted', async () => {
  const odd = makeProject()
  try {
    const scenes = ['-', '(total)', '(unknown)', 'spring sale', 'two\nlines', 'say "hi"', 'plain']
    await pushThroughEngine(odd, scenes.map((scene, i) => ({ accountId: 'default', fields: push.event(`u${i}`, 'subscribe', { EventKey: `qrscene_${scene}` }) })))
    const r = await odd.run(['followers', '--account', 'default'])
    assert.equal(r.code, 0, r.stderr)
    const shown = r.stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s{2,}/)[1])
    assert.deepEqual(shown.sort(), ['"(total)"', '"(unknown)"', '"-"', '"say \\"hi\\""', '"spring sale"', '"two\\nlines"', '(total)', 'plain'].sort())
    // One line per scene and the total: the newline did not split a row.
    assert.equal(r.stdout.trim().split('\n').length, 1 + scenes.length + 1)
  } finally {
    odd.remove()
  }
})

test('followers: Chinese scenes are shown as they are, the columns after them aligned as a terminal shows them', async () => {
  const zh = makeProject()
  try {
    const scenes = ['春季活动', 'spring', '春季活动', '北京']
    await pushThroughEngine(zh, scenes.map((scene, i) => ({ accountId: 'default', fields: push.event(`u${i}`, 'subscribe', { EventKey: `qrscene_${scene}` }) })))
    const r = await zh.run(['followers'])
    assert.equal(r.code, 0, r.stderr)
    assert.deepEqual(r.stdout.split('\n'), [
      'ACCOUNT  SCENE     FOLLOWED  STILL FOLLOWING  UNFOLLOWED',
      'default  春季活动         2                2           0',
      'default  spring           1                1           0',
      'default  北京             1                1           0',
      'default  (total)          4                4           0',
      '',
    ])
  } finally {
    zh.remove()
  }
})
