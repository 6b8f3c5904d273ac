/**
 * The process log on a stdout that cannot be written (a full disk under `wxengine start >> engine.log`, a
 * file size cap): the engine goes on answering and stops cleanly; it says once, on stderr, why its log is
 * missing. It used to exit 1 at the first log line (sonic-boom's write error, thrown from the log call).
 */
import { after, it } from 'node:test'
import assert from 'node:assert/strict'
import { closeSync, existsSync, openSync, rmSync } from 'node:fs'
import path from 'node:path'
import { createWeChatSimulator, push } from '../../core/testkit/wechat-simulator.ts'
import { makeProject, spawnEngine, type EngineProcess } from '../support/engine-process.ts'

const account = { id: 'default', token: 'fulltoken', appId: 'wxfull0000000001', mode: 'plaintext' as const }
const sim = createWeChatSimulator({ account })
const projects: string[] = []
after(() => projects.forEach((p) => rmSync(p, { recursive: true, force: true })))

it('stdout on a full disk (/dev/full): messages are still answered, the failure is said on stderr, SIGTERM exits 0', { skip: !existsSync('/dev/full') && 'no /dev/full' }, async () => {
  const project = makeProject({ accounts: [account] })
  projects.push(project)
  const full = openSync('/dev/full', 'w')
  let engine: EngineProcess
  try {
    engine = await spawnEngine(project, { DATA_DIR: path.join(project, 'data') }, undefined, { stdout: full })
  } finally {
    closeSync(full)
  }
  for (let i = 0; i < 20; i++) {
    const req = sim.request(push.text(`full-${i}`, `echo ${i}`))
    const res = await fetch(`${engine.url}/wechat?${req.search}`, { method: 'POST', body: req.body })
    assert.equal(res.status, 200)
    assert.equal(sim.openReply(await res.text()).fields?.Content, `${i}`)
  }
  engine.child.kill('SIGTERM')
  assert.equal(await engine.exited, 0, engine.output())
  const said = engine.output().split('\n').filter((l) => l.includes('stdout cannot be written')).map((l) => JSON.parse(l) as Record<string, unknown>)
  assert.equal(said.length, 1, engine.output())
  assert.equal(said[0].code, 'LOG_UNWRITABLE')
  assert.match(String(said[0].reason), /ENOSPC/)
})
