/**
 * The command printed lines ("Next:" after `init`, "Try it:" after `plugin new`) run wxengine with.
 *
 * The binary: `wxengine`, as its docs write it. From a checkout `wxengine` is on the PATH only after
 * `npm link`, and a new project has no node_modules for npx, so the checkout's launcher is named by its
 * absolute path, which works from any folder (an author following the lines from a checkout got
 * "wxengine: command not found").
 */
import { fileURLToPath } from 'node:url'
import { isSingleBinary } from '../binary/sea-assets.ts'

export function howToRun(): string {
  if (isSingleBinary()) return 'wxengine'
  return `node ${fileURLToPath(new URL('./wxengine.mjs', import.meta.url))}`
}
