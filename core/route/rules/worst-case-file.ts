/**
 * Regexes' worst-case verdicts kept between runs, in wxengine's cache directory (core/cache-dir.ts). recheck
 * takes 10-300 ms a regex (bench/slow-regex-check.bench.ts: 131 ms for `^cmd\s+(\S+)\s+(.*)$`), so 50 command
 * regexes held every start, `rules check` and test file for 6.6 s; with the file, only the first run pays.
 *
 * Only definite verdicts are kept: `unknown` may be the machine's slowness (the time bound), and is asked again.
 * Keyed by what decides a verdict (recheck's version and our parameters), so an upgrade starts afresh. A file
 * that cannot be read or written costs the time only: the verdict is computed again, nothing fails. Several
 * processes may write it at once; each writes a whole file under another name and renames it, and a verdict
 * one of them loses is computed again later.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { cacheDir, makePrivateDir } from '../../cache-dir.ts'
import type { WorstCase } from './regex-worst-case.ts'

const FILE_NAME = 'regex-verdicts.json'
/** Verdicts kept at most; the oldest go first. */
const MAX_KEPT = 10_000

interface VerdictFile {
  basis: string
  verdicts: Record<string, WorstCase>
}

/** The file's verdicts made on `basis`; empty when there is none, it is unreadable, or made on another basis. */
export function readVerdictFile(basis: string, dir = cacheDir()): Map<string, WorstCase> {
  try {
    const parsed = JSON.parse(readFileSync(path.join(dir, FILE_NAME), 'utf8')) as Partial<VerdictFile>
    if (parsed.basis !== basis || typeof parsed.verdicts !== 'object' || parsed.verdicts === null) return new Map()
    return new Map(Object.entries(parsed.verdicts).filter(([, v]) => isDefinite(v)))
  } catch {
    return new Map()
  }
}

/** Adds one verdict to the file (read, merged, written whole). Never throws. */
export function keepVerdict(basis: string, key: string, verdict: WorstCase, dir = cacheDir()): void {
  if (!isDefinite(verdict)) return
  const temp = path.join(dir, `${FILE_NAME}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`)
  try {
    makePrivateDir(dir)
    const verdicts = readVerdictFile(basis, dir)
    verdicts.delete(key)
    verdicts.set(key, verdict)
    const kept = [...verdicts].slice(-MAX_KEPT)
    writeFileSync(temp, JSON.stringify({ basis, verdicts: Object.fromEntries(kept) } satisfies VerdictFile), { mode: 0o600 })
    renameSync(temp, path.join(dir, FILE_NAME))
  } catch {
    // A cache: not kept this time, computed again next time.
    try {
      rmSync(temp, { force: true })
    } catch {
      // Not made either (no such directory).
    }
  }
}

function isDefinite(v: unknown): v is WorstCase {
  const kind = (v as { kind?: unknown } | null)?.kind
  return kind === 'linear' || kind === 'polynomial' || kind === 'exponential'
}
