/**
 * The plugin processes of this process, or of `parent` (an engine spawned by a test), by
 * pid, from ps (limits.pluginIsolation's `process`, the default on Node 20 and 22): to see that a start, a load,
 * a dispose or a stop left none behind. Each test that counted them had
 * its own copy of these lines.
 */
import { execFileSync } from 'node:child_process'

export function pluginProcesses(parent: number = process.pid): number[] {
  return execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(parent)], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.includes('plugin-worker'))
    .map((l) => Number(l.trim().split(/\s+/)[0]))
}
