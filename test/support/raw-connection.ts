/**
 * A raw TCP connection to a test server, for what fetch cannot send: bytes written as they are (a lying
 * Content-Length, a cut chunk, a gzip body), and the answer read as the bytes that came back.
 */
import net from 'node:net'

/** A raw connection: what it receives, and when it closed (ms after it opened). */
export function rawConnection(url: string): { socket: net.Socket; received: () => string; closed: Promise<number> } {
  const u = new URL(url)
  const socket = net.connect(Number(u.port), u.hostname)
  let data = ''
  socket.setEncoding('utf8')
  socket.on('data', (d: string) => (data += d))
  socket.on('error', () => undefined)
  const started = Date.now()
  const closed = new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - started)))
  return { socket, received: () => data, closed }
}

/**
 * One request on its own connection, written byte for byte, read until the server closes it (send
 * `Connection: close`, or a request it closes on): its status line, whether it said Connection: close, its body.
 */
export async function rawExchange(url: string, head: string, body: Buffer): Promise<{ status: string; close: boolean; body: string }> {
  const c = rawConnection(url)
  c.socket.write(Buffer.concat([Buffer.from(head), body]))
  await c.closed
  const text = c.received()
  const headEnd = text.indexOf('\r\n\r\n')
  return { status: text.slice(0, text.indexOf('\r\n')), close: /\r\nConnection: close\r\n/i.test(text.slice(0, headEnd)), body: text.slice(headEnd + 4) }
}
