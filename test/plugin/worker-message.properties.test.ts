/**
 * checkWorkerMessage (core/plugin/worker-message.ts) over generated messages (fast-check): anything at all
 * is answered with a reason or accepted, never thrown on; every message of the protocol's shapes is
 * accepted (the suite's plugin tests run the real worker program through it as well); a message of a known
 * kind with one field of the wrong type is refused.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import fc from '../support/fast-check.ts'
import { checkWorkerMessage } from '../../core/plugin/worker-message.ts'

const json = fc.jsonValue({ maxDepth: 3 })
const id = fc.integer({ min: 1, max: 2 ** 40 })
// The worker sends whole milliseconds of a TTL of at least 1 s (ttl-seconds.ts).
const ttlMs = fc.integer({ min: 1000, max: 315_360_000_000 })
const scope = fc.oneof(fc.constant(null), fc.record({ user: fc.string({ maxLength: 30 }) }))
const key = fc.string({ minLength: 1, maxLength: 60 })
// A shared storage area's name (storage-keys.ts SHARED_AREA_NAME).
const area = fc.stringMatching(/^[a-z][a-z0-9]{0,8}(-[a-z0-9]{1,8})?$/)

const valid = fc.oneof(
  fc.constant({ t: 'ready' }),
  fc.record({ t: fc.constant('defined'), sharedStorage: fc.array(area, { maxLength: 16 }) }),
  fc.record({ t: fc.constant('load-failed'), reason: fc.string() }),
  fc.record({
    t: fc.constant('result'),
    id,
    result: fc.oneof(
      fc.record({ kind: fc.constant('reply'), reply: json }),
      fc.constant({ kind: 'pass' }),
      fc.record({ kind: fc.constant('error'), message: fc.string() }),
      fc.record({ kind: fc.constant('bad-reply'), reason: fc.string() }),
    ),
    sessionOps: fc.array(
      fc.oneof(
        fc.record({ op: fc.constant('begin'), ttlMs, state: json }, { requiredKeys: ['op', 'ttlMs'] }),
        fc.record({ op: fc.constant('update'), state: json }),
        fc.record({ op: fc.constant('refresh'), ttlMs }),
        fc.constant({ op: 'end' }),
      ),
      { maxLength: 4 },
    ),
  }),
  fc.record({ t: fc.constant('rpc'), id, method: fc.constantFrom('kv.get', 'kv.delete'), scope, key, area }, { requiredKeys: ['t', 'id', 'method', 'scope', 'key'] }),
  fc.record({ t: fc.constant('rpc'), id, method: fc.constant('kv.set'), scope, key, value: json, ttlSeconds: fc.integer({ min: 1, max: 315_360_000 }) }, { requiredKeys: ['t', 'id', 'method', 'scope', 'key', 'value'] }),
  fc.record({ t: fc.constant('rpc'), id, method: fc.constant('kv.increment'), scope, key, by: fc.integer(), area }, { requiredKeys: ['t', 'id', 'method', 'scope', 'key', 'by'] }),
  fc.record({ t: fc.constant('rpc'), id, method: fc.constant('kv.compareAndSet'), scope, key, expected: fc.record({ value: json }), next: fc.record({ value: json }) }, { requiredKeys: ['t', 'id', 'method', 'scope', 'key'] }),
  fc.record({ t: fc.constant('rpc'), id, method: fc.constant('api.get'), accountId: fc.string(), path: fc.string(), query: fc.oneof(fc.dictionary(fc.string(), fc.string()), json) }, { requiredKeys: ['t', 'id', 'method', 'accountId', 'path'] }),
  fc.record({ t: fc.constant('rpc'), id, method: fc.constant('api.post'), accountId: fc.string(), path: fc.string(), body: json }),
  fc.record({ t: fc.constant('rpc'), id, method: fc.constantFrom('api.sendToUser', 'api.sendTemplate', 'api.sendSubscribeMessage'), accountId: fc.string(), openId: fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/), message: json }),
  fc.record({ t: fc.constant('log'), level: fc.constantFrom('debug', 'info', 'warn', 'error'), msg: fc.string(), data: fc.dictionary(fc.string(), json) }, { requiredKeys: ['t', 'level', 'msg'] }),
  fc.record({ t: fc.constant('disposed'), cleared: fc.nat(), error: fc.string(), unsettled: fc.array(fc.string(), { maxLength: 3 }) }, { requiredKeys: ['t', 'cleared'] }),
  fc.record({ t: fc.constant('over-memory'), where: fc.constantFrom('heap', 'outside'), mb: fc.double({ noNaN: true, noDefaultInfinity: true }) }),
)

test('every message of the protocol\'s shapes is accepted', () => {
  fc.assert(
    fc.property(valid, (m) => {
      assert.equal(checkWorkerMessage(m), undefined, JSON.stringify(m))
    }),
    { numRuns: 3000 },
  )
})

test('anything at all is refused with a short reason or accepted, never thrown on', () => {
  fc.assert(
    fc.property(fc.oneof(fc.anything(), json), (v) => {
      const why = checkWorkerMessage(v)
      if (why !== undefined) assert.ok(why.length > 0 && why.length < 300, why)
    }),
    { numRuns: 3000 },
  )
})

/** null, undefined, NaN, a list, an object, or the typeof of anything else. */
function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'list' : Number.isNaN(v) ? 'NaN' : typeof v
}

test('a message of the protocol with one field changed to a value of another type is refused', () => {
  const wrong = fc.oneof(fc.constant(null), fc.constant(undefined), fc.constant(NaN), fc.constant(-1), fc.constant([]), fc.constant({}), fc.constant('x'), fc.constant(true))
  let refused = 0
  fc.assert(
    fc.property(valid, fc.nat(), wrong, (m, pick, value) => {
      const fields = Object.keys(m).filter((k) => k !== 't')
      if (fields.length === 0) return
      const field = fields[pick % fields.length]
      const changed = { ...(m as Record<string, unknown>), [field]: value }
      const why = checkWorkerMessage(changed)
      if (why !== undefined) refused++
      // A reply, an API body, query or message may be anything here (each is checked where it is used, on the main
      // thread), a state or stored value anything JSON.stringify writes within the bound (NaN as null), a
      // storage scope null (the plugin's global keys); an optional one may be left out; a value of the
      // field's own kind (another string, an empty list) may be right. Any other change must be refused.
      const anyJson = ['reply', 'body', 'query', 'message', 'state', 'value'].includes(field) || (field === 'scope' && value === null)
      const optional = value === undefined && ['ttlSeconds', 'expected', 'next', 'query', 'data', 'error', 'unsettled', 'state', 'area'].includes(field)
      const sameKind = kindOf(value) === kindOf((m as Record<string, unknown>)[field])
      if (!anyJson && !optional && !sameKind) assert.notEqual(why, undefined, `accepted ${field}: ${String(value)} in ${JSON.stringify(m)}`)
    }),
    { numRuns: 3000 },
  )
  assert.ok(refused > 1000, `${refused} refused`)
})

test('a TTL under the 1 s the worker takes is refused on arrival too, session and storage alike', () => {
  // The worker rounded session.begin(0.0001) to 0 ms and this check took it: a lock over at once.
  const result = (ttlMs: number) => ({ t: 'result', id: 1, result: { kind: 'pass' }, sessionOps: [{ op: 'begin', ttlMs }] })
  assert.equal(checkWorkerMessage(result(0)), 'session.begin with a TTL of 0 ms')
  assert.equal(checkWorkerMessage(result(999)), 'session.begin with a TTL of 999 ms')
  assert.equal(checkWorkerMessage(result(1000)), undefined)
  const set = (ttlSeconds: number) => ({ t: 'rpc', id: 1, method: 'kv.set', scope: null, key: 'k', value: 1, ttlSeconds })
  assert.equal(checkWorkerMessage(set(0.5)), 'kv.set with a TTL of 0.5 s')
  assert.equal(checkWorkerMessage(set(1)), undefined)
})
