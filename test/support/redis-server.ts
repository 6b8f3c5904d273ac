/**
 * A throwaway redis-server on 127.0.0.1 for tests: no persistence, its own temp dir, a free port.
 *
 * The server must never outlive the test process, even when that process is SIGKILLed by a runner
 * timeout ('exit' handlers do not run then). So redis-server is started through `sh`, which first forks
 * a watcher holding our stdin pipe and then `exec`s redis-server (the child pid IS redis-server).
 * When this process dies the pipe reaches EOF and the watcher kills the server and removes its temp dir;
 * when we stop the server ourselves we write a line first, which tells the watcher to leave quietly.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface RedisServer {
  url: string
  port: number
  /** SIGTERM, waits for the exit. */
  stop(): Promise<void>
  /** SIGKILL, waits for the exit: the connection drops without a goodbye. */
  kill(): Promise<void>
  /**
   * Starts again on the same port (stopping first if still running). Data is gone: no persistence.
   * `args`: redis-server settings for the new run (e.g. `['--databases', '4']`).
   */
  restart(args?: readonly string[]): Promise<void>
  /** SIGSTOP: the socket stays open but nothing is answered (a hung server). */
  pause(): void
  /** SIGCONT: the server runs what was sent meanwhile, in order. */
  resume(): void
}

const REDIS_BIN = process.env.REDIS_SERVER_BIN ?? 'redis-server'
const START_TIMEOUT_MS = 10_000
/** Another process may grab the port between our probe and redis-server's bind. */
const PORT_ATTEMPTS = 5

const WATCHER =
  'exec 3<&0; (read line <&3; [ -z "$line" ] && { kill -9 $$; rm -rf "$WX_REDIS_DIR"; } 2>/dev/null) & exec 3<&-; exec "$0" "$@"'

const live = new Set<ChildProcess>()
let exitHookInstalled = false

function installExitHook(): void {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL')
  })
}

async function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer()
    probe.unref()
    probe.once('error', reject)
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address()
      const port = typeof address === 'object' && address ? address.port : 0
      probe.close(() => (port ? resolve(port) : reject(new Error('no port assigned'))))
    })
  })
}

/** One PING over a raw socket: proves the server answers, not just that the port is open. */
async function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port })
    let buffered = ''
    const done = (answer: boolean): void => {
      socket.destroy()
      resolve(answer)
    }
    socket.setTimeout(2000, () => done(false))
    socket.once('error', () => done(false))
    socket.once('connect', () => socket.write('PING\r\n'))
    socket.on('data', (chunk) => {
      buffered += chunk.toString('latin1')
      if (buffered.includes('\r\n')) done(buffered.startsWith('+PONG'))
    })
  })
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => child.once('exit', () => resolve()))
}

/** Spawns redis-server on `port`; resolves once it answers PING, rejects with its output if it exits first. */
async function spawnRedis(port: number, dir: string, extra: readonly string[] = []): Promise<ChildProcess> {
  const args = [
    '-c',
    WATCHER,
    REDIS_BIN,
    '--port', String(port),
    '--bind', '127.0.0.1',
    '--save', '',
    '--appendonly', 'no',
    '--dir', dir,
    '--loglevel', 'notice',
    ...extra,
  ]
  const child = spawn('sh', args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, WX_REDIS_DIR: dir } })
  live.add(child)
  child.once('exit', () => {
    live.delete(child)
    // A line (not bare EOF) tells the watcher the server ended on purpose.
    child.stdin?.end('stopped\n')
  })
  child.stdin?.on('error', () => {})
  // A signal sent to a server that just exited must not become an uncaught 'error'.
  child.on('error', () => {})

  let output = ''
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis-server on ${port} not ready after ${START_TIMEOUT_MS} ms:\n${output}`)), START_TIMEOUT_MS)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (/Ready to accept connections/.test(output)) {
        clearTimeout(timer)
        resolve()
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`redis-server on ${port} exited early (${signal ?? code}):\n${output}`))
    })
  })
  try {
    await ready
  } catch (err) {
    child.kill('SIGKILL')
    await waitForExit(child)
    throw err
  }
  // Keep draining so a chatty server never blocks on a full pipe.
  child.stdout?.resume()
  child.stderr?.resume()
  if (!(await ping(port))) {
    child.kill('SIGKILL')
    await waitForExit(child)
    throw new Error(`redis-server on ${port} logged ready but does not answer PING:\n${output}`)
  }
  return child
}

export async function startRedisServer(): Promise<RedisServer> {
  installExitHook()
  const dir = await mkdtemp(join(tmpdir(), 'wx-redis-'))
  let child: ChildProcess | null = null
  let port = 0
  let lastError: unknown
  for (let attempt = 0; attempt < PORT_ATTEMPTS && !child; attempt++) {
    port = await findFreePort()
    try {
      child = await spawnRedis(port, dir)
    } catch (err) {
      lastError = err
    }
  }
  if (!child) {
    await rm(dir, { recursive: true, force: true })
    throw lastError instanceof Error ? lastError : new Error(String(lastError))
  }

  async function signal(sig: NodeJS.Signals): Promise<void> {
    const current = child
    if (!current) return
    child = null
    const exited = waitForExit(current)
    // Tell the watcher first: Node destroys the child's stdin before 'exit' is emitted, so a line written
    // from the exit handler never arrives, the watcher sees EOF and removes the data dir (racing restart).
    await new Promise<void>((resolve) => (current.stdin?.writable ? current.stdin.write('stopped\n', () => resolve()) : resolve()))
    current.kill(sig)
    // A paused server would hold SIGTERM until continued.
    current.kill('SIGCONT')
    await exited
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      await signal('SIGTERM')
      await rm(dir, { recursive: true, force: true })
    },
    kill: () => signal('SIGKILL'),
    async restart(args) {
      await signal('SIGTERM')
      await mkdir(dir, { recursive: true })
      child = await spawnRedis(port, dir, args)
    },
    pause() {
      child?.kill('SIGSTOP')
    },
    resume() {
      child?.kill('SIGCONT')
    },
  }
}
