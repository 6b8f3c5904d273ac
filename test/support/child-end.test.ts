/**
 * childExited/childClosed (child-end.ts): asked for after the child has ended, they resolve, as a late
 * `child.once('close')` in a test's `finally` did not (a CI run's 40 s timeout in test/server/start.test.ts).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { test } from 'node:test'
import { childClosed, childExited, type ChildEnd } from './child-end.ts'

/** `ended`, or a failure naming `what` if it has not resolved in 10 s (it would wait forever otherwise). */
async function within(what: string, ended: Promise<ChildEnd>): Promise<ChildEnd> {
  let timer: NodeJS.Timeout | undefined
  const never = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} never resolved`)), 10_000)))
  try {
    return await Promise.race([ended, never])
  } finally {
    clearTimeout(timer)
  }
}

test('asked for at spawn: the exit code, on exit and on close', async () => {
  const child = spawn(process.execPath, ['-e', 'process.stdout.write("x"); process.exit(3)'], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.resume()
  const exited = childExited(child)
  const closed = childClosed(child)
  assert.deepEqual(await within('childExited', exited), { code: 3, signal: null })
  assert.deepEqual(await within('childClosed', closed), { code: 3, signal: null })
  assert.equal(childClosed(child), closed, 'the same promise for a later call')
})

test('asked for only after the child has closed (a finally after awaits): resolves all the same', async () => {
  const child = spawn(process.execPath, ['-e', 'process.exit(5)'], { stdio: ['ignore', 'pipe', 'pipe'] })
  child.stdout.resume()
  child.stderr.resume()
  await once(child, 'close')
  assert.deepEqual(await within('childClosed', childClosed(child)), { code: 5, signal: null })
  assert.deepEqual(await within('childExited', childExited(child)), { code: 5, signal: null })
})

test('a child killed by a signal (exitCode stays null): its signal, asked for late', async () => {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
  child.kill('SIGKILL')
  await once(child, 'close')
  assert.equal(child.exitCode, null)
  assert.deepEqual(await within('childExited', childExited(child)), { code: null, signal: 'SIGKILL' })
  assert.deepEqual(await within('childClosed', childClosed(child)), { code: null, signal: 'SIGKILL' })
})
