/**
 * `wxengine send --local` with a plugin or rules the engine refuses: each error said once. A plugin's was
 * said twice, as the engine's error line and again in "the engine did not start" (an operator's
 * walkthrough of the binary); a rules file's, which the engine does not log, is said in that line.
 */
import assert from 'node:assert/strict'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import { makeProject } from './cli-harness.ts'

const project = makeProject()
after(() => project.remove())

test('a plugin that does not compile: its error once, then that the engine did not start', async () => {
  const source = path.join(project.dir, 'plugins', 'echo', 'index.ts')
  const original = readFileSync(source, 'utf8')
  writeFileSync(source, 'export default {\n  name: "echo",\n  handle(ctx) { return ctx.reply.text( }\n}\n')
  try {
    const r = await project.run(['send', 'echo hi', '--local'])
    assert.equal(r.code, 1)
    assert.equal(r.stdout, '')
    assert.equal(r.stderr.match(/plugins\/echo\/index\.ts:3:\d+: SyntaxError/g)?.length, 1, r.stderr)
    assert.match(r.stderr, /^error: plugin echo: plugins\/echo\/index\.ts:3:\d+: SyntaxError/m)
    assert.match(r.stderr, /^wxengine send: the engine did not start: rules or plugins failed to load \(the error above\)\n$/m)
  } finally {
    writeFileSync(source, original)
  }
})

test('a rules file that does not parse: said in the line that the engine did not start', async () => {
  const broken = path.join(project.dir, 'rules', 'broken.yaml')
  writeFileSync(broken, 'rules:\n  - name: hi\n    keywords: [hi\n')
  try {
    const r = await project.run(['send', 'echo hi', '--local'])
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^wxengine send: the engine did not start: rules or plugins failed to load:\n {2}.*rules\/broken\.yaml:3:15: YAML syntax error/m)
    assert.equal(r.stderr.match(/YAML syntax error/g)?.length, 1, r.stderr)
  } finally {
    rmSync(broken)
  }
})
