/**
 * A TCP proxy on 127.0.0.1 in front of a real Redis, for network failures a redis-server alone cannot show:
 * a command that reaches Redis but whose answer never comes back (`swallow`), a command that never reaches
 * Redis on a connection that stays up (`mute`), a server that refuses new connections (`refuse`), and every
 * connection dropped at once (`cut`).
 */
import { connect, createServer, type Socket } from 'node:net'

export interface RedisProxy {
  state: { swallow: boolean; mute: boolean; refuse: boolean }
  url: string
  /** Drops every connection through it, as a network failure would. */
  cut(): void
  close(): Promise<void>
}

export async function startRedisProxy(targetPort: number): Promise<RedisProxy> {
  const state = { swallow: false, mute: false, refuse: false }
  const sockets = new Set<Socket>()
  const proxy = createServer((c) => {
    if (state.refuse) return void c.destroy()
    const s = connect(targetPort, '127.0.0.1')
    for (const socket of [c, s]) {
      sockets.add(socket)
      socket.on('error', () => undefined)
      socket.on('close', () => sockets.delete(socket))
    }
    c.on('data', (d) => void (state.mute || s.write(d)))
    s.on('data', (d) => void (state.swallow || c.write(d)))
    c.on('close', () => s.destroy())
    s.on('close', () => c.destroy())
  })
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r))
  const address = proxy.address()
  return {
    state,
    url: `redis://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    cut: () => sockets.forEach((s) => s.destroy()),
    close: () => new Promise<void>((r) => proxy.close(() => r())),
  }
}
