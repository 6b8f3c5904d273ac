import assert from 'node:assert/strict'
import path from 'node:path'
import { test } from 'node:test'
import { outPath } from '../../scripts/out-path.ts'

test('npm run build:binary -- --out <relative>: taken from where npm was run (INIT_CWD), not the repository root npm runs the script in', () => {
  assert.equal(outPath('rel/wxengine', '/home/me/repo/sub'), path.resolve('/home/me/repo/sub', 'rel/wxengine'))
  assert.equal(outPath('/tmp/wxengine', '/home/me/repo/sub'), '/tmp/wxengine', 'an absolute path stays as given')
  // Not run through npm: the working directory is where it was typed, and runBuild resolves against it.
  assert.equal(outPath('rel/wxengine', undefined), 'rel/wxengine')
  assert.equal(outPath('rel/wxengine', ''), 'rel/wxengine')
  assert.equal(outPath(undefined, '/home/me/repo/sub'), undefined, 'no --out: the default, dist/wxengine in the source tree')
})
