/**
 * An error thrown in the HTTP layer (create-app.ts, Koa's 'error') leaves a line with its `reason`, as every
 * failure line has it, and under a budget key of its own: sharing the engine's INTERNAL key, a flood of the
 * engine's internal errors held this one back (said only as a count under the other's example), and the
 * other way round.
 */
import assert from 'node:assert/strict'
import type http from 'node:http'
import { test } from 'node:test'
import type Koa from 'koa'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createLineBudget, LINES_PER_KEY } from '../../core/log/line-budget.ts'
import { createApp } from '../../core/server/create-app.ts'
import { startHarness } from '../support/engine-harness.ts'

test("an http error's line has its reason and is not held back by a flood of the engine's internal errors", async () => {
  const h = await startHarness()
  const { logger, lines } = createMemoryLogger()
  const budget = createLineBudget(logger)
  let server: http.Server | undefined
  try {
    const broken: Koa.Middleware = async (ctx, next) => {
      if (ctx.path !== '/broken') return next()
      throw new RangeError('offset out of range')
    }
    const app = createApp({ engine: h.runtime.engine, log: logger, defaultAccount: h.runtime.config.defaultAccount, maxBodyBytes: 65536, web: [broken], lines: budget })
    server = app.listen(0, '127.0.0.1')
    await new Promise((r) => server!.once('listening', r))
    const { port } = server.address() as { port: number }

    // The engine's internal errors, on the budget it shares with the HTTP layer (runtime.ts), with its key.
    for (let i = 0; i < LINES_PER_KEY + 5; i++) budget.error('INTERNAL', { code: 'INTERNAL', reason: 'engine bug' }, 'internal error while handling a request')

    const res = await fetch(`http://127.0.0.1:${port}/broken`)
    await res.text()
    assert.equal(res.status, 500)
    const line = lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('http error'))
    assert.ok(line, 'the http error has its line, though the engine used up its own budget')
    assert.equal(line.level, 50)
    assert.equal(line.code, 'INTERNAL')
    assert.equal(line.reason, 'offset out of range')
    assert.equal(line.path, '/broken')
    assert.equal(line.method, 'GET')
  } finally {
    budget.close()
    server?.close()
    await h.close()
  }
})
