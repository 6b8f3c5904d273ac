/**
 * The process log's stdout writer (core/log/stdout-sink.ts) given one line larger than its whole backlog
 * (8 MiB): a plugin error of five million characters made such a line, which sonic-boom dropped without a
 * word, so the failed message left no line at all (a robustness review). Now its start is written instead.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { test } from 'node:test'

const sink = path.join(import.meta.dirname, '../../core/log/stdout-sink.ts')

test('a line over the backlog: a line with its size and start instead, and the lines after it as usual', () => {
  const script = `
    import { pino } from 'pino'
    import { stdoutSink } from ${JSON.stringify(sink)}
    const log = pino({ base: null }, stdoutSink())
    log.error({ code: 'PLUGIN_ERROR', reason: 'A'.repeat(9 * 1024 * 1024) }, 'plugin failed')
    log.info('after')
  `
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  assert.equal(run.status, 0, run.stderr)
  const lines = run.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.equal(lines.length, 2, run.stdout.slice(0, 500))
  assert.equal(lines[0].code, 'LOG_UNWRITABLE')
  assert.ok(Number(lines[0].bytes) > 9 * 1024 * 1024, String(lines[0].bytes))
  assert.match(String(lines[0].start), /^\{"level":50,.*"code":"PLUGIN_ERROR","reason":"AAAA/)
  assert.equal(String(lines[0].start).length, 2000)
  assert.match(String(lines[0].msg), /^a log line of \d+ bytes was over 8388608 and not written; its start is here$/)
  assert.equal(lines[1].msg, 'after')
})
