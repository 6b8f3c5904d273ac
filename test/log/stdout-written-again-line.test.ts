/**
 * The line that says stdout can be written again (core/log/stdout-sink.ts) must come after every line logged
 * while it could not be. The process log collects lines in a batch (core/log/line-batch.ts) handed to the
 * stdout writer every 4 KiB or every second; the writer's own retry, also every second and on the same tick,
 * ran first: once the reader read again, the line saying so was queued before the lines still in the batch.
 * test/e2e/stalled-stdout.test.ts saw it on a loaded machine (its last message lines came after that line).
 *
 * A real pipe whose reader this test pauses and resumes at chosen points; the child logs through the process
 * log (createLogger) and logs its last line only after the stall has been said, so the line is in the batch
 * when the reader resumes.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import path from 'node:path'
import { it } from 'node:test'
import { childClosed } from '../support/child-end.ts'
import { until } from '../support/until.ts'

const logger = path.join(import.meta.dirname, '../../core/log/logger.ts')
const WAITING = 1000

// 1,000 lines of 1 KiB: well past what the pipe (64 KiB) and the reader's paused stream hold (up to its
// high-water mark, 16 or 64 KiB by Node version, plus a read of up to 64 KiB), so stdout stalls. With 200,
// some runs on Node 22 and on a loaded machine never stalled: the 200 KiB all fitted.
const script = `
  import { createLogger } from ${JSON.stringify(logger)}
  // As the CLI does: touching process.stdout makes a pipe non-blocking, so a full one says EAGAIN.
  void process.stdout
  const log = createLogger({ level: 'info' })
  const filler = 'x'.repeat(1000)
  for (let i = 0; i < ${WAITING}; i++) log.info({ i, filler }, 'waiting')
  process.send('logged')
  process.on('message', (m) => {
    if (m === 'last') {
      log.info('last')
      process.send('logged')
    } else process.exit(0)
  })
`

function linesOf(out: string): Array<Record<string, unknown>> {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
}

it('stdout read again: the line saying so comes after every line logged while it was not, those still collected too', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
  const closed = childClosed(child)
  let out = ''
  let err = ''
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stdout!.pause()
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  try {
    // Started (on a loaded machine that alone can take many seconds) and its lines logged.
    await Promise.race([once(child, 'message'), closed.then(() => assert.fail(`the child ended first: ${err}`))])
    // Said on stderr once the stall has lasted 5 s; the deadline only bounds a failure.
    await until('the stall said on stderr', () => linesOf(err).some((l) => l.code === 'LOG_UNWRITABLE' && l.level === 50), 30_000)
    child.send('last')
    await once(child, 'message')
    child.stdout!.resume()
    await until('the last line on stdout', () => out.includes('"msg":"last"'), 20_000)
    child.send('exit')
    const end = await closed
    assert.equal(end.code, 0, err)
  } finally {
    child.kill('SIGKILL')
  }
  const lines = linesOf(out)
  assert.deepEqual(
    lines.filter((l) => l.msg === 'waiting').map((l) => l.i),
    Array.from({ length: WAITING }, (_, i) => i),
    'every waiting line, in order',
  )
  const last = lines.findIndex((l) => l.msg === 'last')
  const again = lines.findIndex((l) => l.code === 'LOG_UNWRITABLE' && l.level === 40)
  assert.ok(again >= 0, 'a line says stdout can be written again')
  assert.equal(lines[again]!.dropped, 0)
  assert.ok(again > last, `the line saying so (at ${again}) after the last line logged before (at ${last})`)
})
