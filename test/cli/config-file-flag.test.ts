/**
 * A configuration named with -c that does not load: the advice names that file, and a file that is not
 * there gets no advice about settings (it said "Fix the setting in engine.config.ts" for both; an
 * operator's review).
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, test } from 'node:test'
import { MAIN, makeProject, TSX } from './cli-harness.ts'

const project = makeProject()
after(() => project.remove())

/** Bounded: a start that wrongly accepts the file would serve until killed. */
function run(args: string[]) {
  const r = spawnSync(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: project.dir, env: project.env, encoding: 'utf8', timeout: 30_000 })
  return { code: r.status, stderr: r.stderr }
}

test('-c alt.config.ts with a bad setting: the advice names alt.config.ts, for start and rules check alike', () => {
  const source = readFileSync(path.join(project.dir, 'engine.config.ts'), 'utf8')
  writeFileSync(path.join(project.dir, 'alt.config.ts'), source.replace('port: 8080', "port: 'x' as never"))
  for (const command of [['start', '--port', '0'], ['rules', 'check']]) {
    const r = run(['-c', 'alt.config.ts', ...command])
    assert.equal(r.code, 2, r.stderr)
    // The line of `port:` in the file given, for the editor to jump to.
    const line = source.split('\n').findIndex((l) => l.includes('port: 8080')) + 1
    assert.match(r.stderr, new RegExp(`^wxengine: invalid configuration \\(alt\\.config\\.ts\\):\\n {2}alt\\.config\\.ts:${line}:\\d+: port: `))
    assert.match(r.stderr, /\nFix the setting in alt\.config\.ts or the environment variable named above\.\n$/)
  }
})

test('-c with a file that is not there: said, with no advice about settings', () => {
  for (const command of [['start', '--port', '0'], ['rules', 'check']]) {
    const r = run(['-c', 'missing.ts', ...command])
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.stderr, `wxengine: config file not found: ${path.join(project.dir, 'missing.ts')}\n`)
  }
})

test('a config file that does not run says where, as plugins and rules do (file:line:col), and the advice is to fix it there, not a setting', () => {
  const source = readFileSync(path.join(project.dir, 'engine.config.ts'), 'utf8')
  try {
    // A comma left out: sucrase's "Error transforming /abs/engine.config.ts: ... (9:2)" before.
    writeFileSync(path.join(project.dir, 'engine.config.ts'), source.replace('port: 8080,', 'port: 8080'))
    const line = source.split('\n').findIndex((l) => l.includes('port: 8080,')) + 2
    for (const command of [['start', '--port', '0'], ['rules', 'check']]) {
      const r = run(command)
      assert.equal(r.code, 2, r.stderr)
      assert.equal(r.stderr, `wxengine: engine.config.ts:${line}:3: SyntaxError: Unexpected token, expected ","\nFix engine.config.ts where it says above.\n`)
    }
    // A throw while it runs: its name, and where.
    writeFileSync(path.join(project.dir, 'engine.config.ts'), source.replace('port: 8080,', 'port: Number(missingPort),'))
    const r = run(['rules', 'check'])
    assert.equal(r.code, 2, r.stderr)
    assert.equal(r.stderr, `wxengine: engine.config.ts:${line - 1}:16: ReferenceError: a name there is not defined (a string missing its quotes? The name is not repeated here: it could be a secret)\nFix engine.config.ts where it says above.\n`)
    // Named with -c: the same, under its own name.
    writeFileSync(path.join(project.dir, 'alt.config.ts'), 'export default 42\n')
    const other = run(['-c', 'alt.config.ts', 'rules', 'check'])
    assert.equal(other.stderr, 'wxengine: alt.config.ts: must export default defineConfig({...})\nFix alt.config.ts where it says above.\n')
  } finally {
    writeFileSync(path.join(project.dir, 'engine.config.ts'), source)
  }
})
