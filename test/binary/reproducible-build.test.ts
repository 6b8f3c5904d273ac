/**
 * `wxengine build --reproducible`: the same source, node and SQLite addon give the same binary, byte for
 * byte, so anyone can check a binary against its source. Two builds here: one from this checkout, one from a
 * copy of it at another path (its node_modules hard-linked), each through the CLI with its own work folder.
 * Before, every build differed: the SEA blob kept the random work folder's path of the CLI's bundle, and
 * V8's code cache, which V8 does not make the same twice, is in a default build (left out here).
 */
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { REPO, runCommand } from '../cli/cli-harness.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-reproducible-'))
after(() => rmSync(root, { recursive: true, force: true }))

const LEFT_OUT = new Set(['node_modules', '.git', 'data', 'dist'])

async function build(source: string, out: string): Promise<Buffer> {
  const r = await runCommand(process.execPath, ['--import', 'tsx', path.join(source, 'core/cli/main.ts'), 'build', '--reproducible', '--out', out], { cwd: source, env: process.env })
  assert.equal(r.code, 0, r.stderr)
  assert.match(r.stderr, /making the SEA blob \(without a code cache: reproducible\)/)
  return readFileSync(out)
}

test('two --reproducible builds, from this checkout and from a copy at another path, are the same bytes; the binary runs', { timeout: 600_000 }, async () => {
  const copy = path.join(root, 'another-checkout')
  cpSync(REPO, copy, { recursive: true, filter: (src) => !LEFT_OUT.has(path.relative(REPO, src).split(path.sep)[0]!) })
  // A node_modules of its own, as another checkout has: through a symbolic link esbuild names the bundled
  // modules by their real path, which is this checkout's. Hard links cost no copy; a copy where they fail.
  try {
    execFileSync('cp', ['-al', path.join(REPO, 'node_modules'), path.join(copy, 'node_modules')], { stdio: 'pipe' })
  } catch {
    cpSync(path.join(REPO, 'node_modules'), path.join(copy, 'node_modules'), { recursive: true })
  }
  const first = await build(REPO, path.join(root, 'one', 'wxengine'))
  const second = await build(copy, path.join(root, 'two', 'wxengine'))
  assert.equal(first.length, second.length)
  const at = first.findIndex((byte, i) => byte !== second[i])
  assert.equal(at, -1, `the builds differ from byte ${at}`)
  const version = await runCommand(path.join(root, 'one', 'wxengine'), ['--version'], { cwd: root, env: { PATH: '/usr/bin:/bin', HOME: root } })
  assert.equal(version.code, 0, version.stderr)
  assert.equal(version.stderr, '', 'no warning (a rejected code cache would say so)')
  assert.match(version.stdout, /^\d+\.\d+\.\d+/)
})
