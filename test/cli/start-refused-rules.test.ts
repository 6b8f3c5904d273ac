/**
 * `wxengine start` with rules that do not load names them as `rules check` does, from the working
 * directory: they came with their full path (/srv/bot/rules/broken.yaml:3:15), while a plugin's came as
 * plugins/x/index.ts (an operator's walkthrough of the binary).
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
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
