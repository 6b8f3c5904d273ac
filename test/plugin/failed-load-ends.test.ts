/**
 * A load with errors (plugin-test-kit.ts's loadPlugins) leaves nothing that holds the test's process: its
 * keep-alive ran until dispose(), and a test whose assertion about the load failed never reached that, so it
 * hung instead of failing. A process that loads a broken plugin and never disposes ends by itself; a
 * failed plugin's worker is gone once the load has returned. Not promised for a load where other plugins
 * loaded: their workers run until dispose(), and a worker thread (the isolation Node 22 and later get) holds
 * its process as long (on Node 24 such a process did not end by itself).
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import path from 'node:path'
import { test } from 'node:test'
import { childExited } from '../support/child-end.ts'
import { pluginProcesses } from '../support/plugin-processes.ts'
import { until } from '../support/until.ts'
import { loadPlugins } from './plugin-test-kit.ts'

const LOAD_AND_LEAVE = path.join(import.meta.dirname, '../fixtures/test-kit/load-and-leave.ts')
/** A load takes about a second; a process held by the keep-alive would run for as long as nobody kills it. */
const ENDS_WITHIN_MS = 15_000

/** Runs load-and-leave.ts with `plugins`: what it printed and how it ended, or a failure if it is still running after ENDS_WITHIN_MS. */
async function loadAndLeave(plugins: string[]): Promise<{ loaded: string[]; errors: string[]; code: number | null }> {
  const child = spawn(process.execPath, ['--import', 'tsx', LOAD_AND_LEAVE, plugins.join(',')], { stdio: ['ignore', 'pipe', 'pipe'] })
  const ended = childExited(child)
  let out = ''
  let err = ''
  child.stdout.on('data', (c: Buffer) => (out += c))
  child.stderr.on('data', (c: Buffer) => (err += c))
  let timer: NodeJS.Timeout | undefined
  const stillRunning = new Promise<'running'>((resolve) => (timer = setTimeout(() => resolve('running'), ENDS_WITHIN_MS)))
  try {
    const end = await Promise.race([ended, stillRunning])
    assert.notEqual(end, 'running', `still running ${ENDS_WITHIN_MS} ms after it started, never disposed: ${out}${err}`)
    const printed = JSON.parse(out.split('\n')[0] || '{}') as { loaded?: string[]; errors?: string[] }
    return { loaded: printed.loaded ?? [], errors: printed.errors ?? [], code: (await ended).code }
  } finally {
    clearTimeout(timer)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  }
}

test('a load whose only plugin fails, never disposed: its process ends by itself', { timeout: 60_000 }, async () => {
  const run = await loadAndLeave(['setup-throws'])
  assert.deepEqual(run.loaded, [])
  assert.match(run.errors.join('\n'), /plugin setup-throws: setup failed: Error: no database/)
  assert.equal(run.code, 0)
})

test('a failed load leaves no worker behind (plugins in processes, where they can be counted)', { skip: process.platform === 'win32' && 'ps', timeout: 60_000 }, async () => {
  const before = pluginProcesses()
  const h = await loadPlugins({ only: ['setup-throws'], isolation: 'process' })
  try {
    assert.equal(h.errors.length, 1)
    await until("the failed plugin's process gone", () => pluginProcesses().filter((pid) => !before.includes(pid)).length === 0)
  } finally {
    await h.dispose()
  }
})
