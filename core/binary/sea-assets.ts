/**
 * Files the single binary carries inside itself (Node SEA assets, node:sea needs Node >= 20.12).
 * From the source tree the same names are read from the repository, so callers never branch.
 */
import { readFileSync } from 'node:fs'
import sea from 'node:sea'

/** True inside the single binary built by `wxengine build`. */
export function isSingleBinary(): boolean {
  return sea.isSea()
}

/** A text asset by its path relative to the repository root, e.g. `templates/plugin/index.ts`. */
export function readTextAsset(name: string): string {
  if (sea.isSea()) return sea.getAsset(name, 'utf8')
  // Resolved lazily: the bundled binary has no import.meta.url, and never reaches this line.
  return readFileSync(new URL(`../../${name}`, import.meta.url), 'utf8')
}

export function readBinaryAsset(name: string): Buffer {
  if (sea.isSea()) return Buffer.from(sea.getAsset(name))
  return readFileSync(new URL(`../../${name}`, import.meta.url))
}
