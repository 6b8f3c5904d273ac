/**
 * `wxengine start` with rules that do not load names them as `rules check` does, from the working
 * directory: they came with their full path (/srv/bot/rules/broken.yaml:3:15), while a plugin's came as
 * plugins/x/index.ts (an operator's walkthrough of the binary). With a broken plugin too, both are named at
 * once: the operator met the plugin only after fixing the rules and starting again.
 */
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'
import { createLogger } from '../../core/log/logger.ts'
import { startRuntime, StartupError } from '../../core/runtime.ts'
import { pluginProcesses } from '../support/plugin-processes.ts'
import { makeProject } from './cli-harness.ts'

const project = makeProject()
after(() => project.remove())

test('refused: exit 2, the broken rules file named as rules check names it', async () => {
  writeFileSync(path.join(project.dir, 'rules', 'broken.yaml'), 'rules:\n  - name: hi\n    keywords: [hi\n')
  const check = await project.run(['rules', 'check'])
  assert.equal(check.code, 1)
  assert.match(check.stdout, /^rules\/broken\.yaml:3:15: YAML syntax error/m)

  const r = await project.run(['start', '--port', '0'])
  assert.equal(r.code, 2, r.stderr)
  assert.match(r.stderr, /^wxengine: rules or plugins failed to load:$/m)
  assert.match(r.stderr, /^ {2}rules\/broken\.yaml:3:15: YAML syntax error: this \[ is not closed/m)
  assert.doesNotMatch(r.stderr, new RegExp(project.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
})

test('refused for rules and a plugin at once: both named, and no plugin worker left running', async () => {
  const both = makeProject()
  try {
    writeFileSync(path.join(both.dir, 'rules', 'broken.yaml'), 'rules:\n  - name: hi\n    keywords: [hi\n')
    mkdirSync(path.join(both.dir, 'plugins', 'fails'))
    writeFileSync(
      path.join(both.dir, 'plugins', 'fails', 'index.ts'),
      "import { definePlugin } from 'wxengine/plugin'\nexport default definePlugin({ name: 'fails', setup() { throw new Error('no database url') }, handle: (ctx) => ctx.pass() })\n",
    )
    const r = await both.run(['start', '--port', '0'])
    assert.equal(r.code, 2, r.stderr)
    assert.match(r.stderr, /^ {2}rules\/broken\.yaml:3:15: YAML syntax error/m)
    assert.match(r.stderr, /^ {2}PLUGIN_LOAD: plugin fails: .*no database url/m)

    // In process, as the CLI's start runs it: the workers started beside the rules are stopped with the refusal.
    const loaded = loadConfig({ root: both.dir, env: { DATA_DIR: both.dataDir } })
    assert.ok(loaded.ok)
    const before = pluginProcesses()
    await assert.rejects(startRuntime(loaded.value, { listen: false, log: createLogger({ level: 'silent' }) }), (e: unknown) => {
      assert.ok(e instanceof StartupError)
      assert.ok(e.problems.some((p) => p.includes('YAML syntax error')), e.message)
      assert.ok(e.problems.some((p) => /^PLUGIN_LOAD: plugin fails: .*no database url/.test(p)), e.message)
      return true
    })
    assert.deepEqual(pluginProcesses().filter((pid) => !before.includes(pid)), [], 'plugin processes left after a refused start')
  } finally {
    both.remove()
  }
})
