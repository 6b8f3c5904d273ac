/**
 * `send --url` against a server that answers but never finishes (a CLI review): the 10 s bound was the
 * socket's silence only, so an answer that trickled a byte at a time kept `send` waiting for good, and one
 * that streamed without end was read into memory. Now the whole exchange has 10 s and an answer 1 MiB, and
 * the message says the server answered (not "cannot reach ... Is the engine running?").
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type net from 'node:net'
import { after, before, test } from 'node:test'
import { makeProject, type Project } from './cli-harness.ts'

let project: Project
const servers: http.Server[] = []
before(() => {
  project = makeProject()
})
after(() => {
  for (const s of servers) s.closeAllConnections(), s.close()
  project.remove()
})

async function serve(handler: http.RequestListener): Promise<string> {
  const server = http.createServer(handler)
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`
}

test('an answer that trickles without end: given up after 10 s, exit 1, saying the server answered', async () => {
  const url = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/xml' })
    res.write('<xml>')
    const timer = setInterval(() => res.write(' '), 300)
    res.on('close', () => clearInterval(timer))
  })
  const started = Date.now()
  const r = await project.run(['send', 'hi', '--url', url])
  const tookMs = Date.now() - started
  assert.equal(r.code, 1, r.stderr)
  assert.equal(r.stderr, `wxengine send: ${url} answered, but its answer did not end within 10 s. Is it a wxengine (or the right --url)?\n`)
  assert.ok(tookMs < 30_000, `${tookMs} ms`)
})

test('a server that takes the connection and never answers: said so, not "cannot reach ... Is the engine running?"', async () => {
  const url = await serve(() => {
    // Never answered: a stuck server, or not an engine.
  })
  const r = await project.run(['send', 'hi', '--url', url])
  assert.equal(r.code, 1, r.stderr)
  assert.equal(r.stderr, `wxengine send: ${url} took the connection but sent no answer in 10 s (an engine answers within 5 s). Is it a wxengine (or the right --url), or is it stuck (its log says)?\n`)
})

test('an answer past 1 MiB: not read on, exit 1', async () => {
  const url = await serve((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/xml' })
    const chunk = Buffer.alloc(64 * 1024, 0x20)
    const pump = () => {
      while (res.write(chunk)) { /* until the socket pushes back */ }
    }
    res.on('drain', pump)
    pump()
  })
  const r = await project.run(['send', 'hi', '--url', url])
  assert.equal(r.code, 1, r.stderr)
  assert.equal(r.stderr, `wxengine send: ${url} answered, but its answer passed 1048576 bytes (a reply is a few KB). Is it a wxengine (or the right --url)?\n`)
})
