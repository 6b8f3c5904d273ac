/**
 * When a process started, for telling the process that wrote a message-log journal from an unrelated one
 * that was given its pid after it died: a pid names a process only while it lives, and the kernel hands it
 * to the next process once the engine is gone (sooner on a busy machine, or in a container whose pids start
 * again from 1). Linux's /proc says when each process started; elsewhere (macOS, Windows) nothing is known.
 */
import { readFileSync } from 'node:fs'

/**
 * The clock ticks of /proc's times (USER_HZ): 100 on every architecture Node runs on Linux (the kernel's
 * ABI fixes it there, whatever its internal HZ), so not asked of `getconf CLK_TCK`.
 */
const TICKS_PER_SECOND = 100

let bootTimeMs: number | null | undefined

/** The machine's boot as the wall clock gives it now (/proc/stat's btime, in whole seconds), or null. */
function bootTime(): number | null {
  if (bootTimeMs !== undefined) return bootTimeMs
  try {
    const btime = /^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))
    bootTimeMs = btime ? Number(btime[1]) * 1000 : null
  } catch {
    bootTimeMs = null
  }
  return bootTimeMs
}

/**
 * When the process `pid` started, in epoch ms, to within a second (btime is whole seconds): never later than
 * it did. Undefined without /proc, or when no process has that pid.
 */
export function processStartedAt(pid: number): number | undefined {
  const boot = bootTime()
  if (boot === null || !Number.isSafeInteger(pid) || pid <= 0) return undefined
  let stat: string
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // `pid (comm) state ppid ...`: comm may hold spaces and parentheses, so the fields are counted after its last `)`.
  // starttime is field 22, the 20th after comm.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  const ticks = Number(fields[19])
  return Number.isSafeInteger(ticks) ? boot + (ticks / TICKS_PER_SECOND) * 1000 : undefined
}
