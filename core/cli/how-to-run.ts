/**
 * The command printed lines ("Next:" after `init`, "Try it:" after `plugin new`) run wxengine with.
 *
 * From a checkout `wxengine` is on the PATH only after `npm link`, and a new project has no node_modules for
 * npx, so the checkout's launcher is named by its absolute path, which works from any folder (an author
 * following the lines from a checkout got "wxengine: command not found"). The binary likewise: as the docs
 * run it (`./wxengine init shop`) it is not on the PATH, and `wxengine send hello --local` after `cd shop`
 * was "command not found" too.
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
  if (isSingleBinary()) return binaryCommand(runIn, process.argv0, process.execPath)
  if (process.env.npm_command === 'exec' && path.resolve(runIn) === process.cwd()) return 'npx wxengine'
  return `node ${shellWord(fileURLToPath(new URL('./wxengine.mjs', import.meta.url)))}`
}

/**
 * A path as a shell takes it in one word: quoted when it holds a space or a character the shell reads
 * (`./wx 引擎`, pasted unquoted, ran `./wx`: a review of the binary). Letters of any script need none.
 */
export function shellWord(text: string): string {
  return /[\s'"\\$`!*?[\]{}()<>|&;#~]/.test(text) ? `'${text.replace(/'/g, `'\\''`)}'` : text
}

/**
 * The binary as typed (`typed`: argv[0]) when the shell found it on the PATH (a name without a slash); else
 * `./<name>` in its own folder, and its absolute path from any other.
 */
export function binaryCommand(runIn: string, typed: string, executable: string): string {
  if (typed !== '' && !typed.includes('/')) return shellWord(typed)
  if (path.dirname(executable) === path.resolve(runIn)) return shellWord(`./${path.basename(executable)}`)
  return shellWord(executable)
}
