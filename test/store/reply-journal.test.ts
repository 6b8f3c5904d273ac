import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, test } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { openReplyJournal, type JournaledAnswer } from '../../core/store/reply-journal.ts'

const root = mkdtempSync(join(tmpdir(), 'wxengine-reply-journal-'))
after(() => rmSync(root, { recursive: true, force: true }))
let n = 0
const freshDir = () => join(root, `replies-${n++}`)
const T0 = 1_700_000_000_000
const answer = (key: string, expiresAt = T0 + 30_000): JournaledAnswer => ({ key, reply: { status: 200, contentType: 'application/xml; charset=utf-8', body: `<xml>${key}</xml>` }, expiresAt })

test('recovery reads whole lines only: a line cut by the crash and an unreadable one are passed over', () => {
  const dir = freshDir()
  mkdirSync(dir)
  const line = (...keys: string[]) => `${JSON.stringify(keys.map((k) => answer(k)))}\n`
  writeFileSync(join(dir, '1-a-b.jsonl'), line('a', 'b') + 'not json\n' + `${JSON.stringify([{ key: 'no-reply' }, null, 7])}\n` + line('c') + line('cut').slice(0, 30))
  const { logger } = createMemoryLogger('debug')
  const recovered = openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true }).recover()
  assert.deepEqual(recovered.map((a) => a.key), ['a', 'b', 'c'])
  assert.deepEqual(recovered[0], answer('a'))
  assert.deepEqual(readdirSync(dir), [], 'read once, then removed')
})

test('a store opened beside a running engine (no lock) recovers nothing and removes nothing', () => {
  const dir = freshDir()
  mkdirSync(dir)
  writeFileSync(join(dir, '1-a-b.jsonl'), `${JSON.stringify([answer('theirs')])}\n`)
  const { logger } = createMemoryLogger('debug')
  assert.deepEqual(openReplyJournal({ dir, now: () => T0, log: logger, exclusive: false }).recover(), [])
  assert.deepEqual(readdirSync(dir), ['1-a-b.jsonl'])
})

test('answers that cannot be written (the directory is a file): one error line per 10 s, nothing thrown, nothing kept queued', () => {
  const dir = freshDir()
  writeFileSync(dir, '')
  const { logger, lines } = createMemoryLogger('debug')
  const journal = openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true })
  for (let i = 0; i < 5; i++) {
    journal.add(answer(`k${i}`))
    journal.write()
    assert.equal(journal.pending(), false)
  }
  const errors = lines.filter((l) => l.level === 50)
  assert.equal(errors.length, 1, JSON.stringify(lines))
  assert.equal(errors[0]!.code, 'STORE_UNAVAILABLE')
  assert.match(String(errors[0]!.msg), /answers not journaled/)
  assert.match(String(errors[0]!.reason), /EEXIST|ENOTDIR/)
})

test('a new file once the first answer of the current one has expired: files do not outlive two windows', () => {
  const dir = freshDir()
  let t = T0
  const { logger } = createMemoryLogger('debug')
  const journal = openReplyJournal({ dir, now: () => t, log: logger, exclusive: true })
  journal.add(answer('first', T0 + 1000))
  journal.write()
  t = T0 + 500
  journal.add(answer('second', T0 + 1500))
  journal.write()
  assert.equal(readdirSync(dir).length, 1, 'inside the first answer\'s window: the same file')
  t = T0 + 1000
  journal.add(answer('third', T0 + 2000))
  journal.write()
  assert.equal(readdirSync(dir).length, 2, 'past it: a new file')
  journal.discard()
  assert.deepEqual(readdirSync(dir), [])
})
