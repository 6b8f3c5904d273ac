/**
 * A second engine started on a data directory another engine serves from is refused at start (exit 2, a
 * message naming the directory). Two engines on one SQLite file each keep their own reply cache, session
 * cache and outbox: a WeChat retry reaching the other one ran the message twice, a dialogue read a stale
 * session, and each resent the other's pending late replies. The hold is the OS's: a kill -9 ends it, so a
 * restart right after a crash is not refused. Reading the directory (`wxengine log`) is never refused.
 */
import { after, it } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { rmSync } from 'node:fs'
import path from 'node:path'
import { makeProject, REPO, spawnEngine, type EngineProcess } from '../support/engine-process.ts'

const account = { id: 'default', token: 'ownertoken', appId: 'wxowner000000001', mode: 'plaintext' as const }
const projects: string[] = []
/** Engines to stop if a test fails midway: their pipes would keep the test process alive. */
const engines: EngineProcess[] = []
after(() => {
  for (const e of engines) e.child.kill('SIGKILL')
  projects.forEach((p) => rmSync(p, { recursive: true, force: true }))
})

/** spawnEngine's failure when the engine exits before it answers /healthz, with its output. */
async function startRefused(project: string, env: Record<string, string>): Promise<string> {
  try {
    const engine = await spawnEngine(project, env)
    engine.child.kill('SIGKILL')
  } catch (e) {
    return (e as Error).message
  }
  assert.fail('the second engine started')
}

it('a second engine on the same data directory is refused clearly; after a kill -9 of the first, a restart is not', async () => {
  const project = makeProject({ accounts: [account] })
  projects.push(project)
  const env = { DATA_DIR: path.join(project, 'data') }
  const first = await spawnEngine(project, env)
  engines.push(first)

  const refused = await startRefused(project, env)
  assert.match(refused, /another wxengine is serving from .*data/)
  assert.match(refused, /DATA_DIR/)
  // `wxengine log` reads the same directory while the engine serves.
  const log = spawnSync(process.execPath, ['--import', 'tsx', path.join(REPO, 'core/cli/main.ts'), 'log', '-C', project], { cwd: REPO, env: { ...process.env, ...env }, encoding: 'utf8' })
  assert.equal(log.status, 0, log.stderr)

  first.child.kill('SIGKILL')
  await first.exited
  const second = await spawnEngine(project, env)
  engines.push(second)
  second.child.kill('SIGTERM')
  assert.equal(await second.exited, 0)
})
