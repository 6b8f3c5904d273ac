/**
 * A user who unsubscribes can have their sessions and plugin data removed (log.purgeOnUnsubscribe).
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import path from 'node:path'
import { pluginNamespace, userKey } from '../../core/plugin/storage-keys.ts'
import { createTestClient, push } from '../../core/testkit/plugin-test-client.ts'

const root = path.resolve(import.meta.dirname, '../..')

async function surveyDone(client: Awaited<ReturnType<typeof createTestClient>>, openId: string) {
  for (const text of ['survey', 'a', 'b', 'c']) await client.send(text, { openId })
}

describe('purge on unsubscribe', () => {
  it('removes the user’s session and plugin data, and nobody else’s', async () => {
    const client = await createTestClient({ root, config: { log: { purgeOnUnsubscribe: true } } })
    try {
      const kv = client.runtime.store.kv
      await surveyDone(client, 'leaver')
      await surveyDone(client, 'stayer')
      await client.send('survey', { openId: 'leaver' }) // a dialogue in progress again
      assert.ok(await kv.get(pluginNamespace('survey'), userKey('leaver', 'survey')))
      assert.ok(await client.runtime.store.sessions.get('default', 'leaver'))

      await client.expectNoReply(push.event('leaver', 'unsubscribe'))
      await client.runtime.engine.idle()

      assert.equal(await kv.get(pluginNamespace('survey'), userKey('leaver', 'survey')), undefined)
      assert.equal(await client.runtime.store.sessions.get('default', 'leaver'), null)
      assert.ok(await kv.get(pluginNamespace('survey'), userKey('stayer', 'survey')), 'other users keep their data')
    } finally {
      await client.close()
    }
  })

  it('keeps plugin data when the setting is off (the default), but always releases the dialogue lock', async () => {
    const client = await createTestClient({ root })
    try {
      await surveyDone(client, 'leaver')
      await client.send('survey', { openId: 'leaver' })
      await client.expectNoReply(push.event('leaver', 'unsubscribe'))
      await client.runtime.engine.idle()
      assert.ok(await client.runtime.store.kv.get(pluginNamespace('survey'), userKey('leaver', 'survey')))
      assert.equal(await client.runtime.store.sessions.get('default', 'leaver'), null)
      // Coming back starts fresh: the welcome, not the survey's next question.
      await client.expectReply(push.event('leaver', 'subscribe'), /Thanks for following/)
    } finally {
      await client.close()
    }
  })

  it('releases the dialogue lock even when the session lookup fails at once (the message itself is dropped)', async () => {
    const client = await createTestClient({ root })
    try {
      await client.send('survey', { openId: 'leaver' })
      const sessions = client.runtime.store.sessions
      assert.ok(await sessions.get('default', 'leaver'), 'a dialogue in progress')
      const getSync = sessions.getSync
      assert.ok(getSync, 'the SQLite store looks sessions up synchronously')
      sessions.getSync = () => {
        throw new Error('disk I/O error')
      }
      try {
        // Dropped (the store failed at once): no reply, and the test kit says why.
        const r = await client.send(push.event('leaver', 'unsubscribe'))
        assert.equal(r.type, null)
        assert.equal(r.outcome, 'dropped')
        await client.runtime.engine.idle()
      } finally {
        sessions.getSync = getSync
      }
      assert.equal(await sessions.get('default', 'leaver'), null)
    } finally {
      await client.close()
    }
  })
})
