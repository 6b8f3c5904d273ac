/**
 * Put a built file at `out` whole: copied beside it (a rename within one file system) under a name of this
 * build's own, then renamed into place. Two builds to one `out` each rename a whole file there, the last
 * one winning, and neither overwrites or removes the other's copy in progress (a shared `${out}.tmp` did).
 */
import { randomBytes } from 'node:crypto'
import { chmodSync, copyFileSync, mkdirSync, renameSync, rmSync } from 'node:fs'
import path from 'node:path'

export function placeFile(src: string, out: string, mode: number): void {
  mkdirSync(path.dirname(out), { recursive: true })
  const temp = `${out}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    copyFileSync(src, temp)
    chmodSync(temp, mode)
    renameSync(temp, out)
  } finally {
    rmSync(temp, { force: true })
  }
}
