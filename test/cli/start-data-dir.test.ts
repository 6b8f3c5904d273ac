/**
 * `wxengine start` on a data directory it cannot use says what is wrong with it (an operator's review):
 * one this user cannot write, the usual first deploy under systemd's User=, said as `wxengine log` says
 * it (not SQLite's bare "attempt to write a readonly database"); and one under /proc, where node 20's
 * recursive mkdir spun for ever at full CPU with no output.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, test } from 'node:test'
import { createLogger } from '../../core/log/logger.ts'
import { makeDir } from '../../core/store/data-dir.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import { MAIN, makeProject, TSX } from './cli-harness.ts'

const project = makeProject()
after(() => project.remove())

function start(env: NodeJS.ProcessEnv, asNobody = false) {
  const asRoot = process.getuid?.() === 0
  // root ignores file modes: as root the CLI runs as nobody (setpriv), as an operator's own account would.
  const command = asNobody && asRoot ? ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath] : [process.execPath]
  return spawnSync(command[0], [...command.slice(1), '--import', TSX, MAIN, 'start', '--port', '0'], {
    cwd: project.dir,
    env: { ...project.env, HOME: '/tmp', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  })
}

/** A path as start's refusal shows it: inside its working directory (the project), from there, as rules check names files. */
const shown = (p: string): string => path.relative(project.dir, p)

test('a data directory this user cannot write: exit 2, saying whose it is', () => {
  const readonly = path.join(project.dir, 'data-readonly')
  mkdirSync(readonly)
  chmodSync(readonly, 0o555)
  chmodSync(project.dir, 0o755) // mkdtemp made it 0700
  const r = start({ DATA_DIR: readonly }, true)
  chmodSync(readonly, 0o755)
  assert.equal(r.status, 2, r.stderr)
  const uid = process.getuid?.() === 0 ? 65534 : process.getuid!()
  assert.match(r.stderr, new RegExp(`this user \\(uid ${uid}\\) cannot write ${shown(readonly).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(it belongs to uid \\d+\\).*run as the user the engine runs as`))
})

test('a database file this user cannot write (a backup restored as root): exit 2, naming the file and whose it is', async () => {
  const restored = path.join(project.dir, 'data-restored')
  const file = path.join(restored, 'wxengine.db')
  const store = await openSqliteStore({ file, log: createLogger({ level: 'silent' }) })
  await store.close()
  chmodSync(project.dir, 0o755)
  chmodSync(file, 0o644)
  // The directory is the service user's; the file is not (root's, as `mv` of a root-owned backup leaves it).
  if (process.getuid?.() === 0) chownSync(restored, 65534, 65534)
  else chmodSync(file, 0o444)
  const r = start({ DATA_DIR: restored }, true)
  assert.equal(r.status, 2, r.stderr)
  assert.match(r.stderr, new RegExp(`cannot write ${shown(file).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(it belongs to uid \\d+\\): give it to the user the engine runs as`))
  assert.doesNotMatch(r.stderr, /attempt to write a readonly database/)
})

test("a file the store keeps beside the database that this user cannot write (left by an engine run as root: the WAL, its index, the journals' folders, the lock): exit 2, naming it and whose it is", async () => {
  chmodSync(project.dir, 0o755)
  const asRoot = process.getuid?.() === 0
  const companions: Array<{ name: string; dir: boolean }> = [
    { name: 'wxengine.db-wal', dir: false },
    { name: 'wxengine.db-shm', dir: false },
    { name: 'wxengine.db-msglog', dir: true },
    { name: 'wxengine.db-replies', dir: true },
    { name: 'wxengine.lock', dir: false },
    { name: 'wxengine.lock-journal', dir: false },
  ]
  for (const { name, dir } of companions) {
    const data = path.join(project.dir, `data-left-${name}`)
    const store = await openSqliteStore({ file: path.join(data, 'wxengine.db'), log: createLogger({ level: 'silent' }) })
    await store.close()
    const left = path.join(data, name)
    // As an engine run as root leaves it: its own, readable by it alone (the engine makes them private).
    if (dir) mkdirSync(left, { mode: 0o700 })
    else writeFileSync(left, '', { mode: 0o600 })
    if (asRoot) {
      // The directory and the database are the service user's (chowned as the earlier hints said); this one is not.
      chownSync(data, 65534, 65534)
      chownSync(path.join(data, 'wxengine.db'), 65534, 65534)
    } else chmodSync(left, dir ? 0o500 : 0o400)
    const r = start({ DATA_DIR: data }, true)
    if (!asRoot) chmodSync(left, dir ? 0o700 : 0o600)
    assert.equal(r.status, 2, `${name}: ${r.stderr}`)
    assert.match(r.stderr, new RegExp(`cannot write ${shown(left).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(it belongs to uid \\d+\\)`), name)
  }
})

test('a data directory under /proc, or deeper there: exit 2 at once, not a hang', () => {
  for (const dir of ['/proc/wxengine-no-such-dir', '/proc/wxengine-no-such-dir/deeper']) {
    const started = Date.now()
    const r = start({ DATA_DIR: dir })
    assert.equal(r.signal, null, 'it had to be killed: it hung')
    assert.equal(r.status, 2, r.stderr)
    assert.match(r.stderr, /ENOENT: no such file or directory, mkdir '\/proc\/wxengine-no-such-dir'/)
    assert.doesNotMatch(r.stderr, /cannot write/)
    assert.ok(Date.now() - started < 20_000)
  }
})

test('a data directory several levels deep that does not exist yet is made', () => {
  const deep = path.join(project.dir, 'a', 'b', 'c')
  makeDir(deep)
  assert.ok(statSync(deep).isDirectory())
  makeDir(deep)
})

/** A 1 MiB tmpfs filled to the last block, or null where this user cannot mount one (not root). */
function fullDisk(): { dir: string; remove: () => void } | null {
  if (process.getuid?.() !== 0) return null
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-full-'))
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    return null
  }
  const remove = () => {
    spawnSync('umount', [dir])
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; ; i++) writeFileSync(path.join(dir, `filler-${i}`), Buffer.alloc(64 * 1024))
  } catch {
    // ENOSPC: full
  }
  try {
    // The last blocks, smaller than a filler.
    for (let i = 0; ; i++) writeFileSync(path.join(dir, `crumb-${i}`), Buffer.alloc(1024))
  } catch {
    // full to the block
  }
  return { dir, remove }
}

test('a data directory on a full disk: exit 1 (a restart succeeds once there is space), saying the disk is full', (t) => {
  const disk = fullDisk()
  if (disk === null) return t.skip('needs root to mount a small tmpfs')
  try {
    for (const dataDir of [disk.dir, path.join(disk.dir, 'data')]) {
      const r = start({ DATA_DIR: dataDir })
      // 2 told systemd (RestartPreventExitStatus=2) never to try again: the engine stayed down after the disk was freed.
      assert.equal(r.status, 1, r.stderr)
      assert.match(r.stderr, /the disk holding .* is full/)
    }
  } finally {
    disk.remove()
  }
})

test('a data directory on a disk out of inodes: exit 1, saying the disk is full (SQLite says only "unable to open database file")', (t) => {
  if (process.getuid?.() !== 0) return t.skip('needs root to mount a small tmpfs')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-inodes-'))
  if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=20m,nr_inodes=16', 'tmpfs', dir]).status !== 0) {
    rmSync(dir, { recursive: true, force: true })
    return t.skip('cannot mount a tmpfs here')
  }
  try {
    const dataDir = path.join(dir, 'data')
    mkdirSync(dataDir)
    try {
      for (let i = 0; ; i++) writeFileSync(path.join(dir, `filler-${i}`), '')
    } catch {
      // ENOSPC: no inode left, blocks to spare
    }
    const r = start({ DATA_DIR: dataDir })
    assert.equal(r.status, 1, r.stderr)
    assert.match(r.stderr, /the disk holding .* is full \(\d+ bytes, 0 inodes free\)/)
  } finally {
    spawnSync('umount', [dir])
    rmSync(dir, { recursive: true, force: true })
  }
})

test('a data directory that is a file, or on a read-only mount: exit 2, saying which (not a bare "unable to open database file", nor "this user cannot write")', (t) => {
  const file = path.join(project.dir, 'data-is-a-file')
  writeFileSync(file, '')
  const r = start({ DATA_DIR: file })
  assert.equal(r.status, 2, r.stderr)
  assert.match(r.stderr, /data-is-a-file is not a directory/)

  if (process.getuid?.() !== 0) return t.skip('the read-only mount needs root')
  const ro = mkdtempSync(path.join(os.tmpdir(), 'wxengine-ro-'))
  try {
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', ro]).status !== 0) return t.skip('cannot mount a tmpfs here')
    const r2 = start({ DATA_DIR: ro })
    assert.equal(r2.status, 2, r2.stderr)
    assert.match(r2.stderr, /is on a read-only file system/)
    assert.doesNotMatch(r2.stderr, /run as the user/)
  } finally {
    spawnSync('umount', [ro])
    rmSync(ro, { recursive: true, force: true })
  }
})
