import assert from 'node:assert/strict'
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { materializeAddon } from '../../core/binary/native-addon.ts'
import { cacheDir } from '../../core/cache-dir.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-addon-'))
after(() => rmSync(root, { recursive: true, force: true }))

test('the cache directory: WXENGINE_CACHE_DIR, else XDG_CACHE_HOME, else ~/.cache; never a shared /tmp path', () => {
  assert.equal(cacheDir({ WXENGINE_CACHE_DIR: '/srv/cache', XDG_CACHE_HOME: '/x' }), '/srv/cache')
  assert.equal(cacheDir({ XDG_CACHE_HOME: '/x' }), '/x/wxengine')
  assert.equal(cacheDir({}), path.join(os.homedir(), '.cache', 'wxengine'))
})

test('written once, private, named by ABI and content hash; kept when intact, replaced when not', () => {
  const dir = path.join(root, 'a', 'cache')
  const bytes = Buffer.from('pretend this is an ELF shared object')
  const file = materializeAddon(bytes, dir)
  assert.equal(path.dirname(file), dir)
  assert.match(path.basename(file), new RegExp(`^better_sqlite3-abi${process.versions.modules}-${process.platform}-${process.arch}-[0-9a-f]{16}\\.node$`))
  assert.deepEqual(readFileSync(file), bytes)
  assert.equal(statSync(dir).mode & 0o777, 0o700)
  assert.equal(statSync(file).mode & 0o077, 0)

  const firstWrite = statSync(file).mtimeMs
  assert.equal(materializeAddon(bytes, dir), file)
  assert.equal(statSync(file).mtimeMs, firstWrite, 'an intact file is not rewritten')

  writeFileSync(file, 'tampered')
  assert.equal(materializeAddon(bytes, dir), file)
  assert.deepEqual(readFileSync(file), bytes, 'a changed file is replaced')
  assert.deepEqual(readdirSync(dir), [path.basename(file)], 'no temporary files left behind')

  const other = materializeAddon(Buffer.from('another build'), dir)
  assert.notEqual(other, file, 'another addon gets another name')
})

test('a cache directory open to others is made private before use', () => {
  const dir = path.join(root, 'open')
  mkdirSync(dir, { mode: 0o777 })
  chmodSync(dir, 0o777)
  materializeAddon(Buffer.from('x'), dir)
  assert.equal(statSync(dir).mode & 0o777, 0o700)
})
