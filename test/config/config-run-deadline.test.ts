/**
 * engine.config.ts and the files it imports run synchronously, at start and at every reload
 * (core/config/read-config-file.ts): one that never finishes (a loop, a wait) is stopped at a deadline and
 * said, naming the file that was still running, instead of hanging the start, or a serving engine, for good.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
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

test('stuck in a package the configuration requires: the package is named, and the next read gets it whole, not the half the stopped run left', () => {
  // A package (node_modules, plain CommonJS) that loops while a flag file is there, after setting its first export.
  mkdirSync(file('node_modules/slow-settings'), { recursive: true })
  writeFileSync(
    file('node_modules/slow-settings/index.js'),
    "exports.first = 1\nif (require('node:fs').existsSync(require('node:path').join(__dirname, 'stuck'))) for (;;) {}\nexports.second = 2\n",
  )
  writeFileSync(file('node_modules/slow-settings/stuck'), '')
  const config = "import { defineConfig } from 'wxengine/config'\nimport { first, second } from 'slow-settings'\nexport default defineConfig({ port: 9000 + first * 10 + (second ?? 5) })\n"
  try {
    writeFileSync(file('engine.config.ts'), config)
    assert.equal(
      readTimed().reason,
      'BAD_CONFIG engine.config.ts: still running after 0.3 s, in the package "slow-settings" it requires, and stopped (a loop that never ends, or a wait?): the configuration runs synchronously, at start and at every reload, and must finish',
    )
    // Mended: node's cache held the package as far as the stopped run got (first set, second not): 9015.
    rmSync(file('node_modules/slow-settings/stuck'))
    const mended = readConfigFile(file('engine.config.ts'), { deadlineMs: 300 })
    assert.ok(mended.ok, mended.ok ? '' : mended.error.reason)
    assert.equal(mended.value.port, 9012)
    // A package that throws, caught by the file, is not named for a loop of the file's own after it.
    writeFileSync(file('node_modules/slow-settings/index.js'), "throw new Error('no settings here')\n")
    writeFileSync(file('engine.config.ts'), `import { defineConfig } from 'wxengine/config'\nlet port = 9000\ntry { require('slow-settings') } catch { port = 9001 }\nwhile (port > 0) {}\nexport default defineConfig({ port })\n`)
    assert.match(readTimed().reason, /^BAD_CONFIG engine\.config\.ts: still running after 0\.3 s, and stopped/)
  } finally {
    writeFileSync(file('engine.config.ts'), GOOD)
  }
})
