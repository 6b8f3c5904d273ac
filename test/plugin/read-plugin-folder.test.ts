/** A plugin folder before it runs: entry file, manifest, config checked against the manifest's schema. */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { readPluginFolder } from '../../core/plugin/read-plugin-folder.ts'
import { FIXTURES_DIR, loadPlugins, text, textOf } from './plugin-test-kit.ts'

const folder = (name: string) => join(FIXTURES_DIR, name)

describe('config against configSchema', () => {
  test('a good config passes, with the schema defaults filled in on a copy', () => {
    const config = { greeting: 'hi' }
    const r = readPluginFolder(folder('config-schema'), 'config-schema', config)
    assert.ok(r.ok)
    assert.deepEqual(r.value.config, { greeting: 'hi', times: 1 })
    assert.deepEqual(config, { greeting: 'hi' }, 'the settings object is left as written')
    assert.equal(r.value.manifest.version, '0.1.0')
    assert.equal(r.value.entry, join(folder('config-schema'), 'index.ts'))
  })

  const bad: Array<[string, Record<string, unknown>, RegExp]> = [
    ['missing required', {}, /\/ must have required property 'greeting'/],
    ['out of range', { greeting: 'hi', times: 5 }, /\/times must be <= 3/],
    ['wrong type', { greeting: 7 }, /\/greeting must be string/],
    // ajv's "must be equal to one of the allowed values" did not say which (a newcomer's review).
    ['nested enum', { greeting: 'hi', extra: { punct: '?' } }, /\/extra\/punct must be one of "!", "\.", got "\?"(;|$)/],
    ['an enum value not text', { greeting: 'hi', extra: { punct: 1 } }, /\/extra\/punct must be one of "!", "\.", got 1(;|$)/],
    ['unknown key', { greeting: 'hi', colour: 'red' }, /\/colour is not a setting of this plugin; its settings here: greeting, times, extra/],
    ['a misspelt key', { greeting: 'hi', tmes: 2 }, /\/tmes is not a setting of this plugin \(did you mean "times"\?\)/],
  ]
  for (const [name, config, reason] of bad) {
    test(`a bad config is PLUGIN_LOAD naming the plugin and the path: ${name}`, () => {
      const r = readPluginFolder(folder('config-schema'), 'config-schema', config as never)
      assert.ok(!r.ok)
      assert.equal(r.error.code, 'PLUGIN_LOAD')
      assert.match(r.error.reason, /^plugin config-schema: config invalid \(plugins\.config-schema\.config in engine\.config\.ts\): /)
      assert.match(r.error.reason, reason)
    })
  }

  test('every problem is listed, not only the first', () => {
    const r = readPluginFolder(folder('config-schema'), 'config-schema', { greeting: '', times: 0 })
    assert.ok(!r.ok)
    assert.match(r.error.reason, /\/greeting must NOT have fewer than 1 characters; \/times must be >= 1/)
  })

  test('a schema that is not a JSON Schema is reported', () => {
    const r = readPluginFolder(folder('bad-schema'), 'bad-schema', {})
    assert.ok(!r.ok)
    assert.match(r.error.reason, /^plugin bad-schema: plugin.json configSchema is not a valid JSON Schema/)
  })

  test('a schema pattern that backtracks on the value is stopped at the deadline, the plugin refused saying why; the same schema checks a good value', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxengine-schema-deadline-'))
    try {
      writeFileSync(join(dir, 'index.ts'), "export default { name: 'slow-schema', handle: () => undefined }\n")
      writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ configSchema: { type: 'object', properties: { code: { type: 'string', pattern: '^(a+)+$' } } } }))
      // 40 a's and a `!`: minutes of backtracking (29 took 50 s on the serving thread before).
      const t0 = performance.now()
      const r = readPluginFolder(dir, 'slow-schema', { code: `${'a'.repeat(40)}!` }, { schemaDeadlineMs: 300 })
      const ms = performance.now() - t0
      assert.ok(!r.ok)
      assert.equal(r.error.code, 'PLUGIN_LOAD')
      assert.equal(
        r.error.reason.replace(dir, '<dir>'),
        'plugin slow-schema: its config (plugins.slow-schema.config in engine.config.ts) was still being checked against the configSchema of <dir>/plugin.json after 0.3 s, and the check was stopped: a "pattern" there that backtracks on this value (a repetition inside a repetition, like (a+)+)? The check runs on the engine\'s thread, at start and at every reload',
      )
      assert.ok(ms < 5_000, `stopped at about the deadline, not after ${ms} ms`)
      const good = readPluginFolder(dir, 'slow-schema', { code: 'aaa' }, { schemaDeadlineMs: 300 })
      assert.ok(good.ok && good.value.config.code === 'aaa')
      const bad = readPluginFolder(dir, 'slow-schema', { code: 'b' }, { schemaDeadlineMs: 300 })
      assert.ok(!bad.ok && bad.error.reason.endsWith('/code must match pattern "^(a+)+$"'), bad.ok ? '' : bad.error.reason)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  test('the validated config is what the plugin sees', async () => {
    const h = await loadPlugins({ only: ['config-schema'], settings: { 'config-schema': { config: { greeting: 'yo', times: 2, extra: { punct: '!' } } } } })
    try {
      assert.deepEqual(h.errors, [])
      assert.equal(textOf(await h.call('config-schema', text('x'))), 'yo yo!')
    } finally {
      await h.dispose()
    }
  })
})

describe('manifest', () => {
  test('no plugin.json: the manifest is just the name', () => {
    const plain = readPluginFolder(folder('thrower'), 'thrower', undefined)
    assert.ok(plain.ok)
    assert.deepEqual(plain.value.manifest, { name: 'thrower' })
    assert.deepEqual(plain.value.config, {})
  })

  test('a manifest name that differs from the folder is refused', () => {
    const r = readPluginFolder(folder('manifest-mismatch'), 'manifest-mismatch', undefined)
    assert.ok(!r.ok)
    assert.match(r.error.reason, /^plugin manifest-mismatch: plugin.json: name "other-name" differs from the folder name "manifest-mismatch"/)
  })

  test('a folder without index.ts or index.js is refused', () => {
    const r = readPluginFolder(folder('no-entry'), 'no-entry', undefined)
    assert.ok(!r.ok)
    assert.match(r.error.reason, /^plugin no-entry: no index.ts or index.js in /)
  })

  test('a .js entry is found when there is no index.ts', () => {
    const r = readPluginFolder(folder('js-plain'), 'js-plain', undefined)
    assert.ok(r.ok)
    assert.equal(r.value.entry, join(folder('js-plain'), 'index.js'))
  })
})
