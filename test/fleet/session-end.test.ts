/**
 * `wxengine session end` on a fleet's Redis: the session is deleted under the user's lock, so an instance
 * answering one of the user's messages at that moment cannot write it back after; while an instance holds
 * the user, the command waits, and gives up saying so, nothing deleted, when the hold outlasts its wait.
 * A real redis-server on 127.0.0.1; the command runs in this process (runSession) so the test can hold
 * the lock at known moments. (On SQLite beside a running engine: test/cli/session.test.ts.)
 */
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { runSession, type SessionFlags } from '../../core/cli/commands/session.ts'
import type { Output } from '../../core/cli/cli-context.ts'
import { createLogger } from '../../core/log/logger.ts'
import { openStore } from '../../core/store/open-store.ts'
import type { Store } from '../../core/store/store.ts'
import { makeProject, type Project } from '../cli/cli-harness.ts'
import { lockOf } from '../support/held-user-lock.ts'
import { startRedisServer, type RedisServer } from '../support/redis-server.ts'

const PREFIX = 'session-end:'

describe('wxengine session end on Redis', () => {
  let redis: RedisServer
  let project: Project
  let store: Store

  before(async () => {
    redis = await startRedisServer()
    project = makeProject()
    writeFileSync(
      path.join(project.dir, 'engine.config.ts'),
      `import { defineConfig } from 'wxengine/config'
export default defineConfig({
  accounts: [{ id: 'default', token: 'plaintoken', appId: 'wx1111111111111111', mode: 'plaintext' }],
  store: { kind: 'redis', url: 'redis://127.0.0.1:${redis.port}', keyPrefix: '${PREFIX}' },
})
`,
    )
    store = await openStore({ kind: 'redis', url: `redis://127.0.0.1:${redis.port}`, keyPrefix: PREFIX }, project.dataDir, createLogger({ level: 'silent' }))
  })
  after(async () => {
    await store?.close()
    project?.remove()
    await redis?.stop()
  })

  /** runSession with its lines kept. */
  async function session(flags: Omit<SessionFlags, 'root'>): Promise<{ code: number; out: string[]; err: string[] }> {
    const out: string[] = []
    const err: string[] = []
    const io: Output = { out: (l) => out.push(l), err: (l) => err.push(l) }
    const code = await runSession({ root: project.dir, ...flags }, io)
    return { code, out, err }
  }

  const quiz = (openId: string) => ({ account: 'default', openId, plugin: 'quiz', state: { asked: 1 }, expiresAt: Date.now() + 600_000 })

  it('waits while an instance holds the user, then deletes the session under its own hold of the lock', async () => {
    await store.sessions.put(quiz('o-ann'))
    const held = lockOf(await store.sessions.lockUser!('default', 'o-ann', 30_000))
    assert.ok(held)
    const ending = session({ action: 'end', openId: 'o-ann', lockWaitMs: 10_000 })
    await new Promise((r) => setTimeout(r, 400))
    // The instance's answer may still write the session: nothing deleted under it.
    assert.equal((await store.sessions.get('default', 'o-ann'))?.plugin, 'quiz')
    await held.release()
    const ended = await ending
    assert.deepEqual(ended, { code: 0, out: [], err: ['ended the session of o-ann (account default) with plugin quiz: their next message is routed afresh'] })
    assert.equal(await store.sessions.get('default', 'o-ann'), null)
    // The command let go of the user: an instance takes them at once.
    const next = lockOf(await store.sessions.lockUser!('default', 'o-ann', 30_000))
    assert.ok(next, 'the user is free after the command')
    await next.release()
  })

  it('a hold that outlasts the wait: exit 1, said, the session kept', async () => {
    await store.sessions.put(quiz('o-bob'))
    const held = lockOf(await store.sessions.lockUser!('default', 'o-bob', 30_000))
    assert.ok(held)
    try {
      const r = await session({ action: 'end', openId: 'o-bob', lockWaitMs: 300 })
      assert.equal(r.code, 1)
      assert.match(r.err.join('\n'), /^wxengine session end: o-bob \(account default\) is being answered by an instance that has held the user for 0.3 s: nothing ended, try again$/)
      assert.equal((await store.sessions.get('default', 'o-bob'))?.plugin, 'quiz')
    } finally {
      await held.release()
    }
  })

  it('list reads every instance\'s sessions from the shared store', async () => {
    await store.sessions.put(quiz('o-cat'))
    const r = await session({ action: 'list', json: true })
    assert.equal(r.code, 0, r.err.join('\n'))
    const listed = JSON.parse(r.out[0]!) as Array<{ openId: string }>
    assert.deepEqual(listed.map((s) => s.openId).sort(), ['o-bob', 'o-cat'])
  })

  it('--plugin ends each of its sessions under its user\'s lock: a held user is said and kept, another plugin\'s session kept', async () => {
    await store.sessions.put({ ...quiz('o-gus'), plugin: 'survey' })
    const held = lockOf(await store.sessions.lockUser!('default', 'o-bob', 30_000))
    assert.ok(held)
    try {
      const r = await session({ action: 'end', plugin: 'quiz', lockWaitMs: 300 })
      assert.equal(r.code, 1)
      // (This project has no plugin folders: the note is said, the sessions ended all the same.)
      assert.match(r.err[0]!, /^note: plugin "quiz" is not in .*plugins$/)
      assert.deepEqual(r.err.slice(1), [
        'wxengine session end: o-bob (account default) is being answered by an instance that has held the user for 0.3 s: nothing ended, try again',
        "ended 1 session with plugin quiz: their users' next messages are routed afresh; 1 not ended (above)",
      ])
      assert.equal(await store.sessions.get('default', 'o-cat'), null)
      assert.equal((await store.sessions.get('default', 'o-bob'))?.plugin, 'quiz')
      assert.equal((await store.sessions.get('default', 'o-gus'))?.plugin, 'survey')
    } finally {
      await held.release()
    }
  })
})
