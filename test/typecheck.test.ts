/**
 * The whole project type-checks under tsconfig.json (strict): tsx runs TypeScript without checking it, so
 * without this a type error would pass every other test. Covers core/, plugins/, test/, bench/ and the config.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { test } from 'node:test'

const REPO = fileURLToPath(new URL('..', import.meta.url))

test('tsc --noEmit finds no type errors', () => {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit', '--pretty', 'false'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 })
  assert.equal(r.error, undefined)
  assert.equal(r.stdout + r.stderr, '', 'type errors')
  assert.equal(r.status, 0)
})
