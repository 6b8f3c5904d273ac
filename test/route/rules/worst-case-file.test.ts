/**
 * Regexes' worst-case verdicts kept between runs (core/route/rules/worst-case-file.ts): only the first run
 * pays recheck's 10-300 ms a regex.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { RECHECK_VERSION } from '../../../core/route/rules/regex-worst-case.ts'
import { keepVerdict, readVerdictFile } from '../../../core/route/rules/worst-case-file.ts'

const dirs: string[] = []
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-verdicts-'))
  dirs.push(dir)
  return dir
}
after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })))

test('a verdict kept is read back, on the same basis only; unknown is never kept', () => {
  const dir = tempDir()
  keepVerdict('basis-1', 'iu/^a+b+c+$', { kind: 'polynomial', degree: 3, hot: ['a'] }, dir)
  keepVerdict('basis-1', 'iu/^x$', { kind: 'linear' }, dir)
  keepVerdict('basis-1', 'iu/slow', { kind: 'unknown', reason: 'timeout' }, dir)
  assert.deepEqual([...readVerdictFile('basis-1', dir)], [
    ['iu/^a+b+c+$', { kind: 'polynomial', degree: 3, hot: ['a'] }],
    ['iu/^x$', { kind: 'linear' }],
  ])
  assert.deepEqual(readVerdictFile('basis-2', dir).size, 0)
  assert.equal(statSync(path.join(dir, 'regex-verdicts.json')).mode & 0o777, 0o600)
  assert.equal(statSync(dir).mode & 0o777, 0o700)
})

test('a file that is not JSON, or a directory that cannot be made, costs nothing but the cache', () => {
  const dir = tempDir()
  writeFileSync(path.join(dir, 'regex-verdicts.json'), '{ not json')
  assert.equal(readVerdictFile('b', dir).size, 0)
  keepVerdict('b', 'u/k', { kind: 'linear' }, dir)
  assert.deepEqual([...readVerdictFile('b', dir)], [['u/k', { kind: 'linear' }]])
  const file = path.join(tempDir(), 'a-file')
  writeFileSync(file, '')
  assert.doesNotThrow(() => keepVerdict('b', 'u/k', { kind: 'linear' }, path.join(file, 'cache')))
  assert.equal(readVerdictFile('b', path.join(file, 'cache')).size, 0)
})

test('a second run answers from the file, without loading recheck', () => {
  const cache = tempDir()
  const script = [
    "import { createRequire } from 'node:module'",
    `import { checkSuperLinearTime } from ${JSON.stringify(path.resolve('core/route/rules/super-linear-time.ts'))}`,
    "const problem = checkSuperLinearTime('^(.*)\\\\s+(.*)$')",
    "const loaded = Object.keys(createRequire(import.meta.url).cache).some((f) => f.includes(`${'/'}recheck${'/'}`))",
    'console.log(JSON.stringify({ problem, loaded }))',
  ].join('\n')
  const run = () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { env: { ...process.env, WXENGINE_CACHE_DIR: cache }, encoding: 'utf8' })
    assert.equal(r.status, 0, r.stderr)
    return JSON.parse(r.stdout) as { problem: string; loaded: boolean }
  }
  const first = run()
  assert.match(first.problem, /has 3 repetitions in a row/)
  assert.equal(first.loaded, true)
  const second = run()
  assert.equal(second.problem, first.problem)
  assert.equal(second.loaded, false)
})

test("the basis names the recheck that is installed (package.json's pin)", () => {
  const installed = createRequire(import.meta.url)('recheck/package.json') as { version: string }
  assert.equal(RECHECK_VERSION, installed.version)
  const pinned = JSON.parse(readFileSync('package.json', 'utf8')) as { dependencies: Record<string, string> }
  assert.equal(pinned.dependencies.recheck, RECHECK_VERSION)
})
