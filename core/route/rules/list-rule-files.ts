/**
 * Which files make up a rules directory (docs/rules.md "Files"): `*.yaml`/`*.yml` at the top apply to
 * every account unless they say `account:`; `<account-id>/*.yaml` apply to that account. Dot-files
 * are skipped; YAML nested deeper is reported as ignored rather than silently half-loaded (a deeper folder
 * of media files only is not).
 */
import { readdir, readlink, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { shownPath } from '../../shown-path.ts'
import type { RuleLoadError } from '../rule-types.ts'

export interface RuleFileRef {
  /** Relative to the rules directory, `/`-separated: the file name used for ordering ties. */
  rel: string
  /** The path shown in errors (the directory as given, joined with `rel`). */
  path: string
  /** Set for files inside an account folder. */
  folderAccount?: string
}

const RULE_FILE = /\.ya?ml$/i

/** 'dangling': a symbolic link whose target is not there (or cannot be reached). */
type EntryKind = 'file' | 'dir' | 'dangling' | 'other'

async function entriesOf(dir: string): Promise<{ name: string; kind: EntryKind }[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  const out: { name: string; kind: EntryKind }[] = []
  for (const e of entries) {
    if (e.name.startsWith('.')) continue
    let kind: EntryKind = e.isFile() ? 'file' : e.isDirectory() ? 'dir' : 'other'
    if (e.isSymbolicLink()) {
      const s = await stat(join(dir, e.name)).catch(() => undefined)
      kind = s?.isFile() ? 'file' : s?.isDirectory() ? 'dir' : s === undefined ? 'dangling' : 'other'
    }
    out.push({ name: e.name, kind })
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/**
 * Whether a folder nested in an account folder holds YAML files (at any depth, a few levels down): rules that
 * would be ignored, worth a warning. One holding only media a reply names (rules/images/events/qr.png, as
 * docs/rules.md suggests keeping them under rules/) is not: warning about it failed `rules check --strict`.
 */
async function holdsRuleFiles(folder: string, depth = 0): Promise<boolean> {
  if (depth > 8) return false
  const inside = await entriesOf(folder).catch(() => [])
  for (const e of inside) {
    if (e.kind === 'file' && RULE_FILE.test(e.name)) return true
    if (e.kind === 'dir' && (await holdsRuleFiles(join(folder, e.name), depth + 1))) return true
  }
  return false
}

/**
 * A rules file that is a link to nothing (a release's shared file not there yet, a target renamed) was skipped
 * without a word: its rules were gone, at a reload too, where the last good set should have served on.
 */
async function danglingLink(path: string): Promise<RuleLoadError> {
  const target = await readlink(path).catch(() => undefined)
  const to = target === undefined ? '' : ` to ${target}`
  const why = await stat(path).then(
    () => 'which is no file',
    (e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? 'which does not exist' : `which cannot be reached (${e.code ?? e.message})`),
  )
  return { file: path, line: 1, message: `the file is a symbolic link${to}, ${why}: its rules cannot be read (restore its target, or remove the link)` }
}

export function missingRulesDirWarning(dir: string): string {
  return `the rules directory ${shownPath(dir)} does not exist: no rules, so no replies (not even welcome or default); check RULES_DIR or rulesDir`
}

export async function listRuleFiles(
  dir: string,
): Promise<{ files: RuleFileRef[]; warnings: string[] } | { error: RuleLoadError }> {
  const files: RuleFileRef[] = []
  const warnings: string[] = []
  let top: Awaited<ReturnType<typeof entriesOf>>
  try {
    top = await entriesOf(dir)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    // Not an error (the directory may be created later, and a reload then picks it up), but an engine
    // without one answers nothing at all: no rule reaches a plugin, and welcome/default live in rules files
    // too. Said here once, so the start and `rules check` say it alike.
    if (code === 'ENOENT') return { files, warnings: [missingRulesDirWarning(dir)] }
    return { error: { file: dir, line: 1, message: `cannot read the rules directory: ${(e as Error).message}` } }
  }
  for (const entry of top) {
    if (entry.kind === 'dangling' && RULE_FILE.test(entry.name)) return { error: await danglingLink(join(dir, entry.name)) }
    if (entry.kind === 'file' && RULE_FILE.test(entry.name)) {
      files.push({ rel: entry.name, path: join(dir, entry.name) })
    } else if (entry.kind === 'dir') {
      let inside: Awaited<ReturnType<typeof entriesOf>>
      try {
        inside = await entriesOf(join(dir, entry.name))
      } catch (e) {
        // Removed or renamed between the two reads (a checkout in progress): refused, the next change reloads.
        return { error: { file: join(dir, entry.name), line: 1, message: `cannot read the account folder: ${(e as Error).message}` } }
      }
      for (const inner of inside) {
        const rel = `${entry.name}/${inner.name}`
        if (inner.kind === 'dangling' && RULE_FILE.test(inner.name)) return { error: await danglingLink(join(dir, rel)) }
        if (inner.kind === 'file' && RULE_FILE.test(inner.name)) {
          files.push({ rel, path: join(dir, entry.name, inner.name), folderAccount: entry.name })
        } else if (inner.kind === 'dir' && (await holdsRuleFiles(join(dir, rel)))) {
          warnings.push(`${join(dir, rel)}: ignored: rules folders are one level deep (rules/<account-id>/*.yaml)`)
        }
      }
    }
  }
  // Top-level files and account folders interleave by name; ordering ties use `rel`, so sort by it.
  files.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0))
  return { files, warnings }
}
