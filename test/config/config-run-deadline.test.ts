/**
 * engine.config.ts and the files it imports run synchronously, at start and at every reload
 * (core/config/read-config-file.ts): one that never finishes (a loop, a wait) is stopped at a deadline and
 * said, naming the file that was still running, instead of hanging the start, or a serving engine, for good.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { readConfigFile } from '../../core/config/read-config-file.ts'

let dir: string
const file = (name: string) => path.join(dir, name)
const GOOD = "import { defineConfig } from 'wxengine/config'\nimport { port } from './settings'\nexport default defineConfig({ port })\n"
const SETTINGS = 'export const port = 9123\n'

before(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-config-deadline-'))
  writeFileSync(file('engine.config.ts'), GOOD)
  writeFileSync(file('settings.ts'), SETTINGS)
})
after(() => rmSync(dir, { recursive: true, force: true }))

/** Reads the configuration with a 300 ms deadline: its reason (paths shown relative to the project) and how long it took. */
function readTimed(): { reason: string; ms: number } {
  const t0 = performance.now()
  const r = readConfigFile(file('engine.config.ts'), { deadlineMs: 300 })
  const ms = performance.now() - t0
  return { reason: r.ok ? 'ok' : `${r.error.code} ${r.error.reason.replaceAll(dir + path.sep, '')}`, ms }
}

test('a configuration that never finishes is stopped at the deadline and said; the next read of a mended one works', () => {
  try {
    // Its own try/catch/finally cannot keep it running: a stopped run runs none of them.
    writeFileSync(file('engine.config.ts'), `${GOOD}let n = 0\ntry {\n  while (true) n++\n} catch {\n} finally {\n  n = -1\n}\n`)
    const stuck = readTimed()
    assert.equal(
      stuck.reason,
      'BAD_CONFIG engine.config.ts: still running after 0.3 s, and stopped (a loop that never ends, or a wait?): the configuration runs synchronously, at start and at every reload, and must finish',
    )
    assert.ok(stuck.ms >= 290 && stuck.ms < 5_000, `stopped at about the deadline, not ${stuck.ms} ms`)
  } finally {
    writeFileSync(file('engine.config.ts'), GOOD)
  }
  const mended = readConfigFile(file('engine.config.ts'), { deadlineMs: 300 })
  assert.ok(mended.ok, mended.ok ? '' : mended.error.reason)
  assert.equal(mended.value.port, 9123)
})

test('stuck in a file the configuration imports: that file is named, and the file that imports it', () => {
  try {
    writeFileSync(file('settings.ts'), `${SETTINGS}for (;;) {}\n`)
    assert.equal(
      readTimed().reason,
      'BAD_CONFIG settings.ts: still running after 0.3 s, and stopped (a loop that never ends, or a wait?): it is imported by engine.config.ts, and runs synchronously, at start and at every reload, and must finish',
    )
    // Two imports down: its own importer is named, not the configuration.
    writeFileSync(file('settings.ts'), "export { port } from './ports'\n")
    writeFileSync(file('ports.ts'), 'export const port = 9123\nwhile (port > 0) {}\n')
    assert.equal(
      readTimed().reason,
      'BAD_CONFIG ports.ts: still running after 0.3 s, and stopped (a loop that never ends, or a wait?): it is imported by settings.ts, and runs synchronously, at start and at every reload, and must finish',
    )
  } finally {
    writeFileSync(file('settings.ts'), SETTINGS)
  }
  // The file that finished is not named: the configuration stuck after its import is.
  try {
    writeFileSync(file('engine.config.ts'), `${GOOD}while (port > 0) {}\n`)
    assert.match(readTimed().reason, /^BAD_CONFIG engine\.config\.ts: still running after 0\.3 s/)
  } finally {
    writeFileSync(file('engine.config.ts'), GOOD)
  }
})

test('a synchronous wait (Atomics.wait of a minute) is stopped too; an error thrown is said as before, with its place', () => {
  try {
    writeFileSync(file('engine.config.ts'), `${GOOD}Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000)\n`)
    const waited = readTimed()
    assert.match(waited.reason, /^BAD_CONFIG engine\.config\.ts: still running after 0\.3 s, and stopped/)
    assert.ok(waited.ms < 5_000, `not the minute: ${waited.ms} ms`)
    writeFileSync(file('engine.config.ts'), `${GOOD}throw new RangeError('not yet')\n`)
    assert.equal(readTimed().reason, 'BAD_CONFIG engine.config.ts:4:7: RangeError: not yet')
  } finally {
    writeFileSync(file('engine.config.ts'), GOOD)
  }
})
