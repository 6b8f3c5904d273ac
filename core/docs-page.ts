/**
 * A page of the user docs as the project at hand has it, for a message that names one: `wxengine init`
 * writes them to .wxengine/docs (a project made next to the single binary has no docs/ of its own), and a
 * source checkout has docs/. Messages said `docs/menus.md` everywhere, a path most projects do not have.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'
import { shownPath } from './shown-path.ts'

/** Where init writes the docs, from the project's root (binary/project-docs.ts writes them). */
export const PROJECT_DOCS_DIR = path.join('.wxengine', 'docs')

/**
 * `page` (`menus.md`, `plugins.md#sandbox`) as a path the user can open, found from `from`, a folder of the
 * project (its root, a plugin's folder, a menu file's): up to the folder with engine.config.ts, init's docs
 * first, then a docs/ of the checkout. With neither, init's path, saying init writes it.
 *
 * The path is from the working directory, as a message is read; `relativeTo`, a folder, gives it from there
 * instead, for a comment written into a file in that folder (menu pull's): a path from the working
 * directory named nothing once the command ran elsewhere (`-C`, a script).
 */
export function docsPage(page: string, from: string, relativeTo?: string): string {
  const [file, anchor = ''] = page.split(/(?=#)/)
  const shown = (p: string) => (relativeTo === undefined ? shownPath(p) : path.relative(relativeTo, p))
  let root: string | undefined
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    for (const folder of [PROJECT_DOCS_DIR, 'docs']) {
      const found = path.join(dir, folder, file)
      if (existsSync(found)) return shown(found) + anchor
    }
    if (existsSync(path.join(dir, 'engine.config.ts'))) root = dir
    if (root !== undefined || path.dirname(dir) === dir) break
  }
  // Where init would write it: in the project found, else said from a project's root.
  const initWrites = root === undefined ? path.join(PROJECT_DOCS_DIR, file) : shown(path.join(root, PROJECT_DOCS_DIR, file))
  return `${initWrites}${anchor}, which wxengine init writes`
}
