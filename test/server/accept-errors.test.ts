/**
 * An 'error' on a listening server (an accept the OS refused: out of descriptors when libuv's own fallback
 * could not take it, out of memory) is logged with a code, and the server serves on. Node throws an
 * 'error' nobody listens to, which would end the process with every message in flight.
 */
import assert from 'node:assert/strict'
import type { AddressInfo } from 'node:net'
import { it } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import { createHttpServer } from '../../core/server/http-server.ts'

const acceptError = (code: string) => Object.assign(new Error(`accept ${code}`), { code, errno: -24, syscall: 'accept' })

it('accept errors on a listening server: a line with the code, and the server still answers', async () => {
  const { logger, lines } = createMemoryLogger('debug')
  const server = createHttpServer((_req, res) => res.end('ok'), { requestTimeoutMs: 5_000, log: logger })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  try {
    server.emit('error', acceptError('EMFILE'))
    server.emit('error', acceptError('ENOMEM'))
    assert.deepEqual(
      lines.map((l) => [l.level, l.code, l.reason]),
      [
        [50, 'FD_EXHAUSTED', 'EMFILE: accept EMFILE'],
        [50, 'INTERNAL', 'ENOMEM: accept ENOMEM'],
      ],
    )
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`)
    assert.equal(await res.text(), 'ok')
  } finally {
    await new Promise((r) => server.close(r))
  }
})

it('before listening, an error stays with whoever called listen (a port in use is theirs to report)', async () => {
  const { logger, lines } = createMemoryLogger('debug')
  const first = createHttpServer((_req, res) => res.end('ok'), { requestTimeoutMs: 5_000, log: logger })
  await new Promise<void>((r) => first.listen(0, '127.0.0.1', r))
  const second = createHttpServer((_req, res) => res.end('ok'), { requestTimeoutMs: 5_000, log: logger })
  try {
    const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
      second.once('error', resolve)
      second.listen((first.address() as AddressInfo).port, '127.0.0.1')
    })
    assert.equal(err.code, 'EADDRINUSE')
    assert.deepEqual(lines, [])
  } finally {
    await new Promise((r) => first.close(r))
  }
})
