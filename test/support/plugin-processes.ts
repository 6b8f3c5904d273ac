/**
 * This process's plugin processes (limits.pluginIsolation's `process`, the default on Node 20 and 22), by
 * pid, from ps: to see that a start, a load or a dispose left none behind. Each test that counted them had
 * its own copy of these lines.
 */
import { execFileSync } from 'node:child_process'

export function pluginProcesses(): number[] {
  return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('plugin-worker'))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
}
