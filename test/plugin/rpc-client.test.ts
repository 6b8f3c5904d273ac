/**
 * The worker's requests to the main thread (core/plugin/sandbox/rpc-client.ts): at most
 * MAX_RPC_CHARS_IN_FLIGHT characters of payload on their way at once, the rest held in order. Over a real
 * MessageChannel, the other end answering as the main thread does.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { MessageChannel } from 'node:worker_threads'
import { createRpcClient, MAX_RPC_CHARS_IN_FLIGHT } from '../../core/plugin/sandbox/rpc-client.ts'
import type { RpcRequest } from '../../core/plugin/worker-protocol.ts'

const MB = 1_048_576
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function harness() {
  const { port1, port2 } = new MessageChannel()
  const client = createRpcClient(port1)
  const received: RpcRequest[] = []
  port2.on('message', (m: RpcRequest) => received.push(m))
  port1.on('message', () => undefined)
  const answer = (id: number) => client.settle({ t: 'rpc-result', id, ok: true, value: null })
  /**
   * Until `count` requests have arrived (a loaded machine took longer than a fixed 20 ms to deliver them: a
   * CI run saw none), then a moment more, in which one sent too many would arrive: a channel delivers in order.
   */
  const turn = async (count: number) => {
    for (const until = Date.now() + 5_000; received.length < count && Date.now() < until; ) await sleep(5)
    await sleep(20)
  }
  const close = () => {
    port1.close()
    port2.close()
  }
  /** The keys of the requests received so far, in order. */
  const keys = () => received.map((m) => (m as { key: string }).key)
  return { client, received, keys, answer, turn, close }
}

/** Runs `test` against a fresh harness, closed however the test ends. */
async function withHarness(test: (h: ReturnType<typeof harness>) => Promise<void>): Promise<void> {
  const h = harness()
  try {
    await test(h)
  } finally {
    h.close()
  }
}

const set = (key: string) => ({ method: 'kv.set' as const, scope: null, key, value: 'v' })

test('past the window, requests wait for answers and go in the order they were made', () =>
  withHarness(async (h) => {
    const deadline = Date.now() + 10_000
    const sizes = [1.5 * MB, 1.5 * MB, 1.5 * MB, 1.5 * MB, 0.2 * MB]
    const done = sizes.map((size, i) => h.client.request(set(`k${i}`), deadline, size))
    await h.turn(2)
    // 1.5 + 1.5 fit in 4 MiB; the third would not: it and everything after it wait (the small one too, to keep the order).
    assert.deepEqual(h.keys(), ['k0', 'k1'])
    h.answer(h.received[0]!.id)
    await h.turn(3)
    assert.deepEqual(h.keys(), ['k0', 'k1', 'k2'])
    h.answer(h.received[1]!.id)
    h.answer(h.received[2]!.id)
    await h.turn(5)
    assert.deepEqual(h.keys(), ['k0', 'k1', 'k2', 'k3', 'k4'])
    for (const m of h.received.slice(3)) h.answer(m.id)
    await Promise.all(done)
  }))

test('a request larger than the window goes alone; small requests are not held at all', () =>
  withHarness(async (h) => {
    const deadline = Date.now() + 10_000
    const big = h.client.request(set('big'), deadline, MAX_RPC_CHARS_IN_FLIGHT + 1)
    const small = h.client.request(set('small'), deadline, 10)
    await h.turn(1)
    assert.deepEqual(h.keys(), ['big'])
    h.answer(h.received[0]!.id)
    await h.turn(2)
    assert.deepEqual(h.keys(), ['big', 'small'])
    h.answer(h.received[1]!.id)
    await Promise.all([big, small])
    // With nothing large in flight, 100 small requests all go at once.
    const many = Array.from({ length: 100 }, (_, i) => h.client.request(set(`s${i}`), deadline, 100))
    await h.turn(102)
    assert.equal(h.received.length, 102)
    for (const m of h.received.slice(2)) h.answer(m.id)
    await Promise.all(many)
  }))

test('a held request that times out is never sent, and frees nothing it did not hold', () =>
  withHarness(async (h) => {
    const first = h.client.request(set('first'), Date.now() + 10_000, 3 * MB)
    const held = h.client.request(set('held'), Date.now() + 50, 3 * MB)
    await assert.rejects(held, /no answer within/)
    h.answer(h.received[0]!.id)
    await first
    await h.turn(1)
    assert.deepEqual(h.keys(), ['first'])
    // The window is whole again: a request the size of the window goes at once.
    const next = h.client.request(set('next'), Date.now() + 10_000, MAX_RPC_CHARS_IN_FLIGHT)
    await h.turn(2)
    assert.deepEqual(h.keys(), ['first', 'next'])
    h.answer(h.received[1]!.id)
    await next
  }))

test('a held request that times out at the head of the queue lets the ones behind it go', () =>
  withHarness(async (h) => {
    const first = h.client.request(set('first'), Date.now() + 10_000, 3 * MB)
    const held = h.client.request(set('held'), Date.now() + 50, 3 * MB)
    const small = h.client.request(set('small'), Date.now() + 10_000, 0.5 * MB)
    await h.turn(1)
    assert.deepEqual(h.keys(), ['first'])
    await assert.rejects(held, /no answer within/)
    await h.turn(2)
    // 3 + 0.5 MiB fit: 'small' goes while 'first' is still in flight.
    assert.deepEqual(h.keys(), ['first', 'small'])
    for (const m of h.received) h.answer(m.id)
    await Promise.all([first, small])
  }))
