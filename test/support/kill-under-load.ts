/**
 * The kill -9 scenario of the crash-safety tests (single engine and fleet): load an engine with echo
 * messages from concurrent senders, kill it mid-load, and compare what it answered with what its SQLite
 * log holds afterwards.
 */
import { createLogger } from '../../core/log/logger.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import type { EngineProcess } from './engine-process.ts'

type Fields = ReturnType<typeof push.text>

/**
 * `send` delivers one push and resolves with the reply's Content (falsy for none); it throws once the
 * engine is gone. Resolves with the engine's exit (the signal name) and the MsgIds that got an answer.
 */
export async function killUnderLoad(
  engine: EngineProcess,
  send: (fields: Fields) => Promise<unknown>,
  opts: { senders?: number; answers?: number; label?: string } = {},
): Promise<{ exit: number | string; answered: string[] }> {
  const label = opts.label ?? 'load'
  const answered: string[] = []
  let stop = false
  const sender = async (n: number) => {
    for (let i = 0; !stop; i++) {
      const fields = push.text(`${label}-${n}`, `echo ${label} ${n}-${i}`)
      try {
        if (await send(fields)) answered.push(String(fields.MsgId))
      } catch {
        return // connection refused or reset after the kill
      }
    }
  }
  const senders = Array.from({ length: opts.senders ?? 16 }, (_, n) => sender(n))
  while (answered.length < (opts.answers ?? 300)) await new Promise((r) => setTimeout(r, 10))
  engine.child.kill('SIGKILL')
  const exit = await engine.exited
  stop = true
  await Promise.all(senders)
  return { exit, answered }
}

/** The MsgIds among `answered` that the message log in the SQLite file `file` does not hold. */
export async function missingFromLog(file: string, answered: string[]): Promise<string[]> {
  const store = openSqliteStore({ file, log: createLogger({ level: 'silent' }) })
  try {
    const logged = new Set((await store.log.query({ limit: 1_000_000 })).map((e) => e.msgKey.slice(e.msgKey.lastIndexOf(':') + 1)))
    return answered.filter((id) => !logged.has(id))
  } finally {
    await store.close()
  }
}
