/**
 * The worker program's line to the engine, wherever it runs (limits.pluginIsolation, plugin-isolation.ts):
 * in a worker thread, `parentPort` and `workerData`; in a child process (plugin-process.ts), the IPC
 * channel (`process.send`, `process.on('message')`, structured clone as `serialization: 'advanced'`) and
 * the `WorkerData` the child's program stashed from the first IPC message before this program ran.
 */
import { writeSync } from 'node:fs'
import { parentPort, workerData } from 'node:worker_threads'
import { describeThrown, sandboxEntryName } from './describe-thrown.ts'
import { CHILD_CRASH_LINE_PREFIX, CHILD_WORKER_DATA_KEY, type MainToWorker, type WorkerData, type WorkerToMain } from '../worker-protocol.ts'

export interface WorkerPort {
  postMessage(msg: WorkerToMain): void
  onMessage(listener: (msg: MainToWorker) => void): void
}

export function connectToEngine(): { port: WorkerPort; init: WorkerData } {
  if (parentPort) {
    const port = parentPort
    return { port: { postMessage: (msg) => port.postMessage(msg), onMessage: (listener) => port.on('message', listener) }, init: workerData as WorkerData }
  }
  const stash = globalThis as unknown as Record<symbol, WorkerData | undefined>
  const key = Symbol.for(CHILD_WORKER_DATA_KEY)
  const init = stash[key]
  const send = process.send?.bind(process)
  if (!send || !init) throw new Error('worker-main.ts runs only as a plugin worker (a worker thread, or a child process started by plugin-process.ts)')
  delete stash[key]
  // The engine is gone (ended, killed, crashed): so is the reason to be; nobody would stop this process.
  process.on('disconnect', () => process.exit(0))
  // Ctrl-C in a terminal, and systemd's stop (KillMode=control-group), signal the engine's whole process
  // group or cgroup, its plugin processes with it: at node's default they died at once, their calls failing
  // as crashes (and restarted) while the engine was finishing its messages in flight. The engine ends this
  // process (dispose, or killing it on its way out: plugin-process.ts); one it left is gone by the channel.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      if (!process.connected) process.exit(0)
    })
  }
  // A thread's uncaught error reaches the engine as the worker's `error` event; here, as a line on stderr
  // (written synchronously, so it is out before the exit): its name, message and the line of the plugin's
  // entry it came through, as a failed call says them (a raw timer's throw said only its message).
  process.on('uncaughtException', (e) => {
    try {
      writeSync(2, `${CHILD_CRASH_LINE_PREFIX}${JSON.stringify(describeThrown(e, sandboxEntryName(init.entry)))}\n`)
    } finally {
      process.exit(1)
    }
  })
  return {
    port: {
      postMessage: (msg) => {
        if (process.connected) send(msg)
      },
      // One message a macrotask, as a MessagePort delivers them: IPC emits all the messages of one read in
      // a row (nextTicks) before any promise continuation, so a call's answer, due after an `await`, would
      // wait behind the next call, and forever if that one loops (a thread answers the first, then hangs).
      onMessage: (listener) => process.on('message', (msg) => setImmediate(listener, msg as MainToWorker)),
    },
    init,
  }
}
