/**
 * The user docs (docs/*.md) a project gets from `wxengine init`, in .wxengine/docs: the files init and
 * `plugin new` write point at them, and a project made next to the single binary has no docs/ of its own
 * (they pointed at docs/rules.md, docs/plugins.md... that were not there). The pages link to each other by
 * file name only, so the folder reads as it does in the repository. The binary carries them as one asset;
 * a checkout reads its docs/.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { PROJECT_DOCS_DIR } from '../docs-page.ts'
import { DOCS_ASSET } from './asset-names.ts'
import { isSingleBinary, readTextAsset } from './sea-assets.ts'

export { PROJECT_DOCS_DIR }

/**
 * A declaration file init writes (.wxengine/types) with its comments' `docs/x.md` made `.wxengine/docs/x.md`:
 * the comments are the engine's sources', written for its checkout, and an editor's hover showed a docs/ the
 * project does not have. Node's own declarations (node_modules/) are left as they are.
 */
export function pointedAtProjectDocs(file: string, text: string): string {
  if (file.startsWith('node_modules/')) return text
  // Not a docs/ inside another path or an address (https://example.com/docs/x.md).
  return text.replace(/(?<![\w./-])docs\/(?=[\w-]+\.md)/g, `${PROJECT_DOCS_DIR.split(path.sep).join('/')}/`)
}

/** page (`rules.md`) -> content. */
export function projectDocs(): Record<string, string> {
  if (isSingleBinary()) return JSON.parse(readTextAsset(DOCS_ASSET)) as Record<string, string>
  // Resolved lazily: the bundled binary has no import.meta.url, and never reaches this line.
  return readDocsFolder(fileURLToPath(new URL('../../docs', import.meta.url)))
}

/** Every page of a docs folder (the build reads the checkout's with it). */
export function readDocsFolder(dir: string): Record<string, string> {
  const pages = readdirSync(dir).filter((f) => f.endsWith('.md')).sort()
  return Object.fromEntries(pages.map((f) => [f, readFileSync(path.join(dir, f), 'utf8')]))
}

/**
 * The folder a generated file of the project names for a page (`.wxengine/docs`): the one init wrote, else
 * a docs/ the project has (a plugin made inside a source checkout), else init's, which `wxengine init`
 * writes when run again.
 */
export function docsFolderFor(root: string): string {
  if (existsSync(path.join(root, PROJECT_DOCS_DIR))) return PROJECT_DOCS_DIR
  if (existsSync(path.join(root, 'docs', 'plugins.md'))) return 'docs'
  return PROJECT_DOCS_DIR
}
