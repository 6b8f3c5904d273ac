/**
 * The "Testing a plugin" example of docs/README.md, run as written against this project's example plugins
 * and rules: a newcomer copies it first, and it had drifted (it expected a news title the example plugin
 * does not send; found by a newcomer's walkthrough).
 */
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { promisify } from 'node:util'

const root = path.resolve(import.meta.dirname, '../..')

/** The first ```ts block after the heading. */
function exampleUnder(heading: string): string {
  const doc = readFileSync(path.join(root, 'docs/README.md'), 'utf8')
  const from = doc.indexOf(`\n${heading}\n`)
  assert.ok(from >= 0, `docs/README.md has no "${heading}"`)
  const block = /```ts\n([\s\S]*?)\n```/.exec(doc.slice(from))
  assert.ok(block, `no ts block under "${heading}"`)
  return block[1]!
}

test('docs/README.md "Testing a plugin": the example passes as written', async () => {
  const code = exampleUnder('## Testing a plugin')
  assert.match(code, /createTestClient/)
  // Two folders below the root, as a project's test/plugins/ file is (the example finds the project at '../..');
  // not named *.test.ts, so `npm test`'s file list never takes it up.
  const dir = path.join(root, 'test', `.doc-example-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  try {
    const file = path.join(dir, 'example.ts')
    writeFileSync(file, code)
    // Without the runner's own context in the environment, or the child takes itself for a subtest and runs nothing.
    const { NODE_TEST_CONTEXT: _runner, ...env } = process.env
    const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], { cwd: root, env, timeout: 120_000 }).catch((e: { stdout?: string; stderr?: string }) => e)
    const out = `${run.stdout ?? ''}${run.stderr ?? ''}`
    assert.match(out, /^# pass 1$/m, out)
    assert.match(out, /^# fail 0$/m, out)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
