/**
 * `wxengine storage`: an operator reads and changes plugins' storage and shared areas in the project's
 * SQLite file, and a plugin run by `send --local` on the same file sees the change (and the command sees
 * the plugin's writes). Each mistake is refused with what to write instead.
 */
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { makeProject, type Project } from './cli-harness.ts'

let project: Project

before(() => {
  project = makeProject()
  mkdirSync(path.join(project.dir, 'plugins', 'wallet'))
  writeFileSync(
    path.join(project.dir, 'plugins', 'wallet', 'index.ts'),
    `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'wallet',
  sharedStorage: ['points'],
  async handle(ctx) {
    const points = ctx.storage.shared('points')
    const balance = await points.user.increment('balance', 1)
    await ctx.storage.set('last-user', ctx.user.openId)
    return 'balance ' + balance
  },
})
`,
  )
  writeFileSync(path.join(project.dir, 'rules', 'wallet.yaml'), 'rules:\n  - { name: wallet, keywords: [wallet], plugin: wallet }\n')
})
after(() => project.remove())

const run = (...args: string[]) => project.run(['storage', ...args])

test('before the engine ever ran: nothing to list, no key to get (exit 1)', async () => {
  const list = await run('list', 'wallet')
  assert.equal(list.code, 0, list.stderr)
  assert.match(list.stderr, /^nothing stored yet: .*wxengine\.db does not exist/)
  const get = await run('get', 'wallet', 'x')
  assert.equal(get.code, 1)
})

test("set a user's balance in a shared area; the plugin's next message sees it, and the command sees the plugin's writes", async () => {
  const set = await run('set', 'shared:points', 'balance', '41', '--user', 'o-me')
  assert.equal(set.code, 0, set.stderr)
  assert.equal(set.stderr, 'set "balance" in shared:points (user o-me)\n')
  const sent = await project.run(['send', 'wallet', '--local', '--openid', 'o-me'])
  assert.equal(sent.code, 0, sent.stderr)
  assert.match(sent.stdout, /balance 42/)

  const get = await run('get', 'shared:points', 'balance', '--user', 'o-me')
  assert.deepEqual([get.code, get.stdout], [0, '42\n'])
  const mine = await run('get', 'wallet', 'last-user', '--json')
  assert.deepEqual([mine.code, mine.stdout], [0, '"o-me"\n'])
  // The plugin-wide keys and a user's are apart: no balance among the area's plugin-wide keys.
  const wide = await run('list', 'shared:points')
  assert.deepEqual([wide.code, wide.stdout, wide.stderr], [0, '', 'no keys in shared:points\n'])
})

test('list: the keys and values, sorted, up to -n; --json whole', async () => {
  for (const [key, value] of [['b', '{"n":[1,2]}'], ['a', '"x"'], ['c', 'true']]) assert.equal((await run('set', 'wallet', key, value, '--user', 'o-list')).code, 0)
  const list = await run('list', 'wallet', '--user', 'o-list')
  assert.equal(list.code, 0, list.stderr)
  assert.deepEqual(list.stdout.trim().split('\n').map((l) => l.trim().split(/\s{2,}/)), [['KEY', 'VALUE'], ['a', '"x"'], ['b', '{"n":[1,2]}'], ['c', 'true']])
  const two = await run('list', 'wallet', '--user', 'o-list', '-n', '2', '--json')
  assert.deepEqual(JSON.parse(two.stdout), [{ key: 'a', value: 'x' }, { key: 'b', value: { n: [1, 2] } }])
  assert.equal(two.stderr, 'more keys than the 2 shown: -n sets how many\n')
})

test('delete says whether there was a key; a value that expires is gone after its --ttl', async () => {
  assert.equal((await run('delete', 'wallet', 'a', '--user', 'o-list')).stderr, 'deleted "a" in wallet (user o-list)\n')
  assert.equal((await run('delete', 'wallet', 'a', '--user', 'o-list')).stderr, 'no key "a" in wallet (user o-list): nothing deleted\n')
  assert.equal((await run('get', 'wallet', 'a', '--user', 'o-list')).code, 1)
  assert.equal((await run('set', 'wallet', 'brief', '1', '--ttl', '1')).code, 0)
  await new Promise((r) => setTimeout(r, 1100))
  assert.equal((await run('get', 'wallet', 'brief')).code, 1)
})

test('mistakes: a value that is not JSON, a name that is no owner, an option of another command, a misspelt plugin', async () => {
  const notJson = await run('set', 'wallet', 'city', 'Paris')
  assert.equal(notJson.code, 2)
  assert.match(notJson.stderr, /the value is JSON: .*a text in double quotes \('"Paris"' in the shell\).*got "Paris"/)
  const area = await run('list', 'shared:Big Area')
  assert.equal(area.code, 2)
  assert.match(area.stderr, /"Big Area" is no shared area's name: lowercase letters, digits and hyphens/)
  const owner = await run('get', 'plugin:wallet', 'x')
  assert.equal(owner.code, 2)
  assert.match(owner.stderr, /"plugin:wallet" is neither a plugin's name \(its folder in plugins\/\) nor shared:<area>/)
  const ttl = await run('list', 'wallet', '--ttl', '5')
  assert.equal(ttl.code, 2, 'an unknown option of list: a usage mistake')
  assert.match(ttl.stderr, /unknown option '--ttl'/)
  const nobody = await run('set', 'wallet', 'coins', '5', '--user', '')
  assert.equal(nobody.code, 2)
  assert.match(nobody.stderr, /--user takes a user's OpenID, not an empty text/)
  const misspelt = await run('get', 'walet', 'last-user')
  assert.equal(misspelt.code, 1)
  assert.match(misspelt.stderr, /^note: plugin "walet" is not in plugins \(did you mean "wallet"\?\)\nno key "last-user" in walet\n$/)
})

test('a number JSON.parse would not keep as typed is refused, not stored changed (1e999 was stored as null)', async () => {
  for (const [value, shown] of [['{"a":[1,-1e400]}', '-1e400'], ['12345678901234567890', '12345678901234567890']]) {
    const r = await run('set', 'wallet', 'big', value)
    assert.equal(r.code, 2, value)
    assert.equal(r.stderr, `wxengine storage set: the number ${shown} would not be kept as typed (a JSON number is a double: whole numbers exact up to 9007199254740991, none past 1.8e308); give it as a text in double quotes\n`)
  }
  assert.equal((await run('get', 'wallet', 'big')).code, 1, 'nothing was stored')
  // What a double keeps is stored: the largest exact whole number; a repeated key as JSON.parse reads it.
  for (const value of ['9007199254740991', '{"a":1.5e300,"a":2}']) {
    assert.equal((await run('set', 'wallet', 'ok', value)).code, 0, value)
    assert.deepEqual(JSON.parse((await run('get', 'wallet', 'ok')).stdout), JSON.parse(value), value)
  }
})
