/**
 * The command printed lines ("Next:" after `init`, "Try it:" after `plugin new`) run wxengine with.
 *
 * The binary: `wxengine`, as its docs write it. From a checkout `wxengine` is on the PATH only after
 * `npm link`, and a new project has no node_modules for npx, so the checkout's launcher is named by its
 * absolute path, which works from any folder (an author following the lines from a checkout got
 * "wxengine: command not found").
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { isSingleBinary } from '../binary/sea-assets.ts'

/**
 * `runIn`: the folder the printed lines run in. Launched by npx (`npx wxengine plugin new`, as the README
 * writes it), npx found wxengine from the working directory and finds it again there: lines that run there
 * say `npx wxengine`, as the author typed it, instead of the launcher's path.
 */
export function howToRun(runIn: string): string {
  if (isSingleBinary()) return 'wxengine'
  if (process.env.npm_command === 'exec' && path.resolve(runIn) === process.cwd()) return 'npx wxengine'
  return `node ${fileURLToPath(new URL('./wxengine.mjs', import.meta.url))}`
}
