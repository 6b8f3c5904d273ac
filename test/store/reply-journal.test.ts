import assert from 'node:assert/strict'
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
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

test('recovery gives back each answer as written (newlines, quotes, emoji, a lone surrogate) up to a record cut by the crash', () => {
  const dir = freshDir()
  const { logger } = createMemoryLogger('debug')
  const odd = { key: 'acct:m:o 1:2', reply: { status: 200, contentType: 'application/xml; charset=utf-8', body: '<xml>\n"a" 12 34\n😀 \ud800 end</xml>' }, expiresAt: T0 + 5 }
  const writer = openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true })
  writer.add(answer('a'))
  writer.add(odd)
  writer.write()
  writer.add(answer('b'))
  writer.write()
  writer.close()
  // What a kill -9 in the middle of a write leaves: the start of a record.
  const [file] = readdirSync(dir)
  appendFileSync(join(dir, file!), '1700000030000 200 30 1 900\napplication/xml; charset=utf-8c<xml>cut')
  const { logger: reader, lines } = createMemoryLogger('debug')
  const recovered = openReplyJournal({ dir, now: () => T0, log: reader, exclusive: true }).recover()
  assert.deepEqual(recovered.map((a) => a.key), ['a', odd.key, 'b'])
  // The cut record is said, with the file and what was recovered from it (it was never answered: the engine
  // answers once the write has returned).
  assert.deepEqual(
    lines.map((l) => [l.level, l.code, l.file, l.recovered]),
    [[40, 'STORE_UNAVAILABLE', join(dir, file!), 3]],
    JSON.stringify(lines),
  )
  assert.match(String(lines[0]!.reason), /cut short/)
  assert.deepEqual(recovered[0], answer('a'))
  // UTF-8 has no lone surrogate: it comes back as U+FFFD, the rest as written.
  assert.deepEqual(recovered[1], { ...odd, reply: { ...odd.reply, body: odd.reply.body.replace('\ud800', '\ufffd') } })
  assert.deepEqual(readdirSync(dir), [file], 'kept until what it gave is written again')
})

test('a crash between recovery and the write of what it gave loses nothing: the files stay until that write is done, then go', () => {
  const dir = freshDir()
  const { logger } = createMemoryLogger('debug')
  const writer = openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true })
  writer.add(answer('a'))
  writer.add(answer('b'))
  writer.write()
  writer.close()
  const [first] = readdirSync(dir)
  // The next engine recovers them and dies before its write (a second kill -9, or a write that failed).
  const dying = openReplyJournal({ dir, now: () => T0 + 1000, log: logger, exclusive: true })
  assert.deepEqual(dying.recover().map((a) => a.key), ['a', 'b'])
  dying.close()
  assert.deepEqual(readdirSync(dir), [first], 'the file it recovered from is still there')
  // The one after it finds them again, writes them, and only then is the old file gone.
  const next = openReplyJournal({ dir, now: () => T0 + 2000, log: logger, exclusive: true })
  const again = next.recover()
  assert.deepEqual(again.map((a) => a.key), ['a', 'b'])
  for (const a of again) next.add(a)
  assert.equal(next.write(), true)
  const files = readdirSync(dir)
  assert.equal(files.length, 1)
  assert.notEqual(files[0], first)
  next.close()
  assert.deepEqual(openReplyJournal({ dir, now: () => T0 + 3000, log: logger, exclusive: true }).recover().map((a) => a.key), ['a', 'b'])
})

test('a file that is not a journal yields nothing, and is removed with a line that says so', () => {
  const dir = freshDir()
  mkdirSync(dir)
  writeFileSync(join(dir, '1-a-b.jsonl'), 'not a journal\n')
  const { logger, lines } = createMemoryLogger('debug')
  assert.deepEqual(openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true }).recover(), [])
  assert.deepEqual(readdirSync(dir), [])
  assert.deepEqual(
    lines.map((l) => [l.level, l.code, l.file, l.recovered]),
    [[40, 'STORE_UNAVAILABLE', join(dir, '1-a-b.jsonl'), 0]],
    JSON.stringify(lines),
  )
  assert.match(String(lines[0]!.reason), /not a reply journal|header/)
  assert.match(String(lines[0]!.msg), /removed/)
})

test('a file readable up to a damaged record: the records before it are recovered, and the line says how many', () => {
  const dir = freshDir()
  const { logger } = createMemoryLogger('debug')
  const writer = openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true })
  writer.add(answer('a'))
  writer.add(answer('b'))
  writer.write()
  writer.close()
  const [file] = readdirSync(dir)
  // Not what a crash leaves (that is a cut tail): a whole line that is no record, and more after it.
  appendFileSync(join(dir, file!), 'garbage in the middle\n1700000030000 200 0 1 0\nc\n')
  const { logger: reader, lines } = createMemoryLogger('debug')
  const next = openReplyJournal({ dir, now: () => T0, log: reader, exclusive: true })
  assert.deepEqual(next.recover().map((a) => a.key), ['a', 'b'])
  next.add(answer('a'))
  next.add(answer('b'))
  assert.equal(next.write(), true)
  assert.deepEqual(readdirSync(dir).filter((f) => f !== file).length, 1, 'the answers it gave are in a new file')
  assert.ok(!readdirSync(dir).includes(file!), 'and the damaged one is removed once they are')
  next.close()
  assert.deepEqual(lines.map((l) => [l.level, l.code, l.file, l.recovered]), [[40, 'STORE_UNAVAILABLE', join(dir, file!), 2]], JSON.stringify(lines))
  assert.match(String(lines[0]!.reason), /record 3/)
})

test('a file that cannot be read at all is said, with the reason', () => {
  const dir = freshDir()
  // A directory where a file is expected: reading it fails (EISDIR).
  mkdirSync(join(dir, '1-a-b.jsonl'), { recursive: true })
  const { logger, lines } = createMemoryLogger('debug')
  assert.deepEqual(openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true }).recover(), [])
  const notRead = lines.find((l) => l.file === join(dir, '1-a-b.jsonl') && l.recovered === 0)
  assert.ok(notRead, JSON.stringify(lines))
  assert.equal(notRead.code, 'STORE_UNAVAILABLE')
  assert.match(String(notRead.reason), /EISDIR/)
})

test('a file left empty (a crash between its creation and its first write) is removed without a line', () => {
  const dir = freshDir()
  mkdirSync(dir)
  writeFileSync(join(dir, '1-a-b.jsonl'), '')
  const { logger, lines } = createMemoryLogger('debug')
  assert.deepEqual(openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true }).recover(), [])
  assert.deepEqual(readdirSync(dir), [])
  assert.deepEqual(lines, [])
})

test('a store opened beside a running engine (no lock) recovers nothing and removes nothing', () => {
  const dir = freshDir()
  mkdirSync(dir)
  writeFileSync(join(dir, '1-a-b.jsonl'), 'theirs\n')
  const { logger } = createMemoryLogger('debug')
  assert.deepEqual(openReplyJournal({ dir, now: () => T0, log: logger, exclusive: false }).recover(), [])
  assert.deepEqual(readdirSync(dir), ['1-a-b.jsonl'])
})

test('answers that cannot be written (the directory is a file): one error line per 10 s and a count of the rest, nothing thrown, nothing kept queued', () => {
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
  // The rest are counted, and said at the window's end (here: at close).
  journal.close()
  const counted = lines.filter((l) => l.level === 50).slice(1)
  assert.equal(counted.length, 1, JSON.stringify(lines))
  assert.equal(counted[0]!.held, 4)
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

test('a file starts with its format line, `wxengine reply journal 1`', () => {
  const dir = freshDir()
  const { logger } = createMemoryLogger('debug')
  const writer = openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true })
  writer.add(answer('a'))
  writer.write()
  writer.add(answer('b'))
  writer.write()
  writer.close()
  const [file] = readdirSync(dir)
  const text = readFileSync(join(dir, file!), 'utf8')
  assert.equal(text.split('\n')[0], 'wxengine reply journal 1')
  assert.equal(text.match(/wxengine reply journal/g)!.length, 1, 'once, not a write')
})

test('a file of another format (an older or newer engine) is refused whole with a line that says which, not half-read', () => {
  const dir = freshDir()
  mkdirSync(dir)
  // A newer engine's file whose records happen to read as ours: still not read.
  writeFileSync(join(dir, '1-a-b.jsonl'), 'wxengine reply journal 2\n1700000030000 200 0 1 0\nk\n')
  // A JSON array of answers a turn: the first reply journal's format (36b70a3).
  writeFileSync(join(dir, '1-a-c.jsonl'), '[{"key":"k","reply":{"status":200,"contentType":"text/plain","body":"x"},"expiresAt":1700000030000}]\n')
  const { logger, lines } = createMemoryLogger('debug')
  assert.deepEqual(openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true }).recover(), [])
  assert.deepEqual(readdirSync(dir), [])
  const byFile = new Map(lines.map((l) => [l.file, l]))
  assert.equal(byFile.size, 2, JSON.stringify(lines))
  const newer = byFile.get(join(dir, '1-a-b.jsonl'))!
  assert.deepEqual([newer.level, newer.code, newer.recovered], [40, 'STORE_UNAVAILABLE', 0])
  assert.match(String(newer.reason), /format "2".*this engine reads format 1/)
  const older = byFile.get(join(dir, '1-a-c.jsonl'))!
  assert.deepEqual([older.level, older.code, older.recovered], [40, 'STORE_UNAVAILABLE', 0])
  assert.match(String(older.reason), /not a reply journal/)
})

test('a record header is read only as this version writes it: no empty field, sign, exponent, hex, or status out of 100-599', () => {
  const good = '1700000030000 200 0 1 0'
  for (const header of [' 200 0 1 0', '+1700000030000 200 0 1 0', '1.7e12 200 0 1 0', '0x1 200 0 1 0', '-0 200 0 1 0', '01700000030000 200 0 1 0', '1700000030000 999 0 1 0', '1700000030000 0 0 1 0', '1700000030000 200 0 1 0 ', `${good} 0`]) {
    const dir = freshDir()
    mkdirSync(dir)
    writeFileSync(join(dir, '1-a-b.jsonl'), `wxengine reply journal 1\n${good}\na\n${header}\nb\n`)
    const { logger, lines } = createMemoryLogger('debug')
    assert.deepEqual(openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true }).recover().map((a) => a.key), ['a'], header)
    assert.equal(lines.length, 1, header)
    assert.equal(lines[0]!.recovered, 1, header)
    assert.match(String(lines[0]!.reason), /record 2: its header/, header)
  }
})

test('a file of the records alone (written before the format line) is still read', () => {
  const dir = freshDir()
  mkdirSync(dir)
  writeFileSync(join(dir, '1-a-b.jsonl'), '1700000030000 200 10 1 3\ntext/plainkabc\n')
  const { logger, lines } = createMemoryLogger('debug')
  assert.deepEqual(openReplyJournal({ dir, now: () => T0, log: logger, exclusive: true }).recover(), [
    { key: 'k', reply: { status: 200, contentType: 'text/plain', body: 'abc' }, expiresAt: 1700000030000 },
  ])
  assert.deepEqual(lines, [])
})
