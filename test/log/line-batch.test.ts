/**
 * The stdout log path (core/log/line-batch.ts, core/log/logger.ts): lines are collected and handed to the
 * writer in order, a batch at a time; flushing and exiting write out what is collected, so no line is lost
 * on a normal exit or a `flushLogger` before it.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { test } from 'node:test'
import { LineBatch, type LineSink } from '../../core/log/line-batch.ts'
import { REPO } from '../cli/cli-harness.ts'

class RecordingSink implements LineSink {
  writes: string[] = []
  flushes = 0
  syncFlushes = 0
  write(chunk: string): boolean {
    this.writes.push(chunk)
    return true
  }
  flush(cb: (err?: Error | null) => void): void {
    this.flushes++
    cb()
  }
  flushSync(): void {
    this.syncFlushes++
  }
}

test('lines are held until minLength is reached, then handed over in one write, in order', () => {
  const sink = new RecordingSink()
  const batch = new LineBatch(sink, 30)
  batch.write('first line\n') // 11
  batch.write('second line\n') // 23
  assert.deepEqual(sink.writes, [])
  batch.write('third line\n') // 34 >= 30
  assert.deepEqual(sink.writes, ['first line\nsecond line\nthird line\n'])
  batch.write('fourth\n')
  assert.equal(sink.writes.length, 1, 'the count starts again after a hand-over')
})

test('handOver, flush and flushSync pass on what is collected, and nothing twice', () => {
  const sink = new RecordingSink()
  const batch = new LineBatch(sink, 1 << 20)
  batch.handOver()
  assert.deepEqual(sink.writes, [], 'an empty batch writes nothing')
  batch.write('a\n')
  batch.handOver()
  batch.write('b\n')
  let called = false
  batch.flush(() => {
    called = true
  })
  assert.ok(called)
  assert.equal(sink.flushes, 1)
  batch.write('c\n')
  batch.flushSync()
  assert.equal(sink.syncFlushes, 1)
  assert.deepEqual(sink.writes, ['a\n', 'b\n', 'c\n'])
})

// A real process on real stdout: the last lines are still in the batch (under 4 KiB) when it exits.
const EXIT_SCRIPT = `
import { createLogger, flushLogger } from ${JSON.stringify(path.join(REPO, 'core/log/logger.ts'))}
const log = createLogger({ level: 'info' })
for (let i = 0; i < 200; i++) log.info({ i, text: '你好 ' + i }, 'line')
if (process.argv[1] === 'flush') await flushLogger(log)
process.exit(0)
`

for (const how of ['exit', 'flush']) {
  test(`every line reaches stdout, in order, on process.exit (${how === 'flush' ? 'after flushLogger' : 'without a flush'})`, () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', EXIT_SCRIPT, how], { cwd: REPO, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as { i: number; text: string; msg: string })
    assert.equal(lines.length, 200)
    lines.forEach((l, i) => {
      assert.equal(l.i, i)
      assert.equal(l.text, `你好 ${i}`)
      assert.equal(l.msg, 'line')
    })
  })
}
