/**
 * spawnEngine (test/support/engine-process.ts) lets the engine pick its own port. It used to find a free port
 * here and pass it on; between that probe and the engine's bind another test file's server, or an outgoing
 * connection, could take it (CI runs the files side by side), and the engine exited EADDRINUSE at start.
 */
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import path from 'node:path'
import { after, it } from 'node:test'
import { childExited } from './child-end.ts'
import { makeProject, spawnEngine } from './engine-process.ts'

const account = { id: 'default', token: 'porttoken', appId: 'wxport0000000001', mode: 'plaintext' as const }
const projects: string[] = []
after(() => projects.forEach((p) => rmSync(p, { recursive: true, force: true })))

it('the engine is asked for a port of its own (PORT=0) and found where it says it listens', { skip: process.platform !== 'linux' && 'reads /proc' }, async () => {
  const project = makeProject({ accounts: [account] })
  projects.push(project)
  const engine = await spawnEngine(project, { DATA_DIR: path.join(project, 'data') })
  try {
    const environ = readFileSync(`/proc/${engine.child.pid}/environ`, 'utf8').split('\0')
    assert.ok(environ.includes('PORT=0'), environ.filter((e) => e.startsWith('PORT=')).join(' '))
    assert.notEqual(engine.port, 0)
    assert.equal((await fetch(`${engine.url}/healthz`)).status, 200)
    assert.match(engine.output(), new RegExp(`"wxengine listening".*"url":"http://127\\.0\\.0\\.1:${engine.port}"|"url":"http://127\\.0\\.0\\.1:${engine.port}".*"wxengine listening"`))
  } finally {
    engine.child.kill('SIGTERM')
    await childExited(engine.child)
  }
})
