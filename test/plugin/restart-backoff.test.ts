/**
 * A worker that keeps crashing, or whose calls keep timing out, is restarted after a growing delay. A call
 * that comes while that delay is longer than the call's deadline fails at once, saying when the worker comes
 * back, instead of waiting out its deadline for a worker that cannot be there in time (holding the user's
 * next messages behind it).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { errorOf, loadPlugins, text, textOf } from './plugin-test-kit.ts'

const TIMEOUT_MS = 400

test('a call to a plugin whose restart is further off than its deadline fails at once, saying why', { timeout: 60_000 }, async () => {
  const h = await loadPlugins({ only: ['crasher'], timeoutMs: TIMEOUT_MS })
  try {
    assert.deepEqual(h.errors, [])
    const count = (msg: string) => h.log.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(msg)).length
    // Crash after crash, each soon after its start: the delays before the restarts are 0, 100, 200, 400, 800 ms.
    for (let crash = 1; crash <= 5; crash++) {
      assert.equal(textOf(await h.call('crasher', text('crash'))), 'crashing soon')
      await h.log.waitFor(() => count('plugin crasher worker crashed') >= crash)
      if (crash < 5) await h.log.waitFor(() => count('plugin crasher restarted') >= crash)
    }
    // The next restart is 800 ms away, twice the deadline.
    const started = performance.now()
    const e = errorOf(await h.call('crasher', text('hello')))
    const took = performance.now() - started
    assert.equal(e.code, 'PLUGIN_ERROR')
    assert.match(e.reason, /^the plugin's worker is down \(Error: crash from a timer .*\) and restarts in \d+ ms, after this call's deadline \(400 ms\)$/)
    // Under the deadline it would otherwise wait (the reason above already says it failed at once): a loaded machine's slack.
    assert.ok(took < TIMEOUT_MS, `answered after ${Math.round(took)} ms`)
    // Once the worker is back, calls are served.
    await h.log.waitFor(() => count('plugin crasher restarted') >= 5)
    assert.match(textOf(await h.call('crasher', text('hello'))), /^ok \d+$/)
  } finally {
    await h.dispose()
  }
})

test('a plugin whose calls keep timing out restarts later and later; an answered call starts the backoff over; other plugins are not held', { timeout: 60_000 }, async () => {
  const h = await loadPlugins({ only: ['never-resolves', 'js-plain'], timeoutMs: TIMEOUT_MS, settings: { 'js-plain': { timeoutMs: 5000 } } })
  try {
    assert.deepEqual(h.errors, [])
    const lines = (msg: string) => h.log.lines.filter((l) => typeof l.msg === 'string' && l.msg.startsWith(msg))
    const restarts = () => lines('plugin never-resolves restarted').length
    // Timeout after timeout, no call answered between them: the delays before the restarts are 0, 100, 200, 400, 800 ms.
    for (let timeout = 1; timeout <= 5; timeout++) {
      assert.equal(errorOf(await h.call('never-resolves', text('hang'))).code, 'PLUGIN_TIMEOUT')
      if (timeout < 5) await h.log.waitFor(() => restarts() >= timeout)
    }
    const timedOut = lines('plugin never-resolves call timed out')
    assert.deepEqual(timedOut.map((l) => l.restartInMs), [0, 100, 200, 400, 800])
    assert.equal(timedOut[4]!.msg, 'plugin never-resolves call timed out; restarting its worker in 800 ms (5 timeouts in a row)')
    assert.equal(timedOut[4]!.code, 'PLUGIN_TIMEOUT')
    // The next restart is 800 ms away, twice the deadline: a call fails at once, saying why.
    const started = performance.now()
    const e = errorOf(await h.call('never-resolves', text('hello')))
    const took = performance.now() - started
    assert.equal(e.code, 'PLUGIN_ERROR')
    assert.match(e.reason, /^the plugin's worker is down \(a call got no answer within 400 ms\) and restarts in \d+ ms, after this call's deadline \(400 ms\)$/)
    // Under the deadline it would otherwise wait (the reason above already says it failed at once): a loaded machine's slack.
    assert.ok(took < TIMEOUT_MS, `answered after ${Math.round(took)} ms`)
    // Another plugin is served meanwhile.
    assert.equal(textOf(await h.call('js-plain', text('quick'))), 'js: QUICK')
    // Once the worker is back, an answered call shows the handler well: the next timeout restarts at once.
    await h.log.waitFor(() => restarts() >= 5)
    assert.equal(textOf(await h.call('never-resolves', text('hello'))), 'ok')
    assert.equal(errorOf(await h.call('never-resolves', text('hang'))).code, 'PLUGIN_TIMEOUT')
    assert.equal(lines('plugin never-resolves call timed out')[5]!.restartInMs, 0)
    await h.log.waitFor(() => restarts() >= 6)
    assert.equal(textOf(await h.call('never-resolves', text('hello'))), 'ok')
  } finally {
    await h.dispose()
  }
})
