/**
 * What a plugin sees when a platform API call is refused. The call runs on the main thread and the
 * failure crosses to the plugin's worker: the errcode must survive the crossing, because it is what the
 * plugin decides on (45015: the user's 48 h window is closed, give up; -1: system busy, try later), and
 * errmsg is free text the platform changes (it ends with a request id).
 */
import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { CUSTOM_SEND_PATH } from '../../core/platform/platform-api.ts'
import { loadPlugins, startPlatformOnFakeApi, text, textOf } from './plugin-test-kit.ts'

const { fake, api } = await startPlatformOnFakeApi()
const h = await loadPlugins({ only: ['api-user'], api })
after(async () => {
  await h.dispose()
  await fake.close()
})

test('a refused API call rejects in the plugin with code and errcode', async () => {
  fake.setUserError('user-gone', 45015)
  const seen = JSON.parse(textOf(await h.call('api-user', text('errcode', 'user-gone'))))
  assert.deepEqual(seen, { name: 'PlatformApiError', code: 'API_ERROR', errcode: 45015 })
})

test('system busy (-1) is told apart from a closed window', async () => {
  fake.failNextSends(1, -1)
  const seen = JSON.parse(textOf(await h.call('api-user', text('errcode', 'user-busy'))))
  assert.deepEqual(seen, { name: 'PlatformApiError', code: 'API_ERROR', errcode: -1 })
})

test('a failure without an errcode (network, timeout) still carries the code', async () => {
  fake.dropNext(CUSTOM_SEND_PATH, 1)
  const seen = JSON.parse(textOf(await h.call('api-user', text('errcode', 'user-net'))))
  assert.deepEqual(seen, { name: 'PlatformApiError', code: 'API_ERROR', errcode: null })
})
