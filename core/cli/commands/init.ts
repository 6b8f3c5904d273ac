/**
 * `wxengine init [dir]`: makes a folder a wxengine project, or completes one. It writes what is missing
 * (engine.config.ts with a made-up token, rules/default.yaml, plugins/, test/plugins/, tsconfig.json,
 * .gitignore; with a new config and rules, menus/default.yaml, an example menu they answer) and never
 * overwrites a file; and it always (re)writes .wxengine/types, the declaration files of wxengine/plugin,
 * wxengine/config and wxengine/testkit, so an editor type-checks plugins and tests in a project that has
 * only the single binary (no node_modules); and .wxengine/docs, the user docs the files it writes point at.
 * The files come from templates/project/, carried inside the binary; the types and docs from the binary
 * too, or from tsc and docs/ in a checkout.
 */
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { TYPES_ASSET } from '../../binary/asset-names.ts'
import { isSingleBinary, readTextAsset } from '../../binary/sea-assets.ts'
import { pointedAtProjectDocs, PROJECT_DOCS_DIR, projectDocs } from '../../binary/project-docs.ts'
import { howToRun } from '../how-to-run.ts'
import { ACCOUNT_TOKEN } from '../../config/config-schema.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, shownPath, stdio, type Output } from '../cli-context.ts'

export interface InitFlags {
  /** The project folder: `dir` if given, else the global -C (the working directory). */
  root: string
  dir?: string
}

/** Through a variable, so that bundling the CLI for the binary does not pull TypeScript in (only a checkout runs it). */
const TYPES_BUILDER = '../../binary/build-types.ts'

const CONFIG = 'engine.config.ts'
const RULES = path.join('rules', 'default.yaml')
const MENU = path.join('menus', 'default.yaml')

/** Template (under templates/project/) -> where it goes in the project. */
const FILES: Array<[string, string]> = [
  ['engine.config.ts', CONFIG],
  ['rules/default.yaml', RULES],
  ['menus/default.yaml', MENU],
  ['tsconfig.json', 'tsconfig.json'],
  ['gitignore', '.gitignore'],
]

export async function runInit(flags: InitFlags, io: Output = stdio): Promise<number> {
  // Checked before anything is written: a token the engine refuses made a project that would not start.
  const token = process.env.WECHAT_TOKEN
  if (token !== undefined && !ACCOUNT_TOKEN.test(token)) {
    io.err(`wxengine init: WECHAT_TOKEN must be 3 to 32 letters or digits, as WeChat's console takes it (it is ${token.length} characters${/[^A-Za-z0-9]/.test(token) ? ', not all letters or digits' : ''}); set it so, or unset it for a made-up one`)
    return EXIT_USAGE
  }
  const root = path.resolve(flags.dir ?? flags.root)
  // The folder, or the nearest of its parents that exists, a file: a mistyped argument (it said EEXIST or ENOTDIR).
  let existing = root
  while (!existsSync(existing) && path.dirname(existing) !== existing) existing = path.dirname(existing)
  if (!statSync(existing).isDirectory()) {
    io.err(`wxengine init: ${shownPath(existing)} is a file, not a folder: give the folder to make the project in`)
    return EXIT_USAGE
  }
  const created: string[] = []
  const kept: string[] = []
  const shown = (f: string) => shownPath(path.join(root, f)) + (f.endsWith('/') ? '/' : '')
  // The file or folder being written, to name when it cannot be (a folder of another user: it was a stack trace).
  let writing = ''
  try {
    mkdirSync(root, { recursive: true })
    for (const [template, to] of FILES) {
      const file = path.join(root, to)
      if (existsSync(file)) {
        kept.push(to)
        continue
      }
      // The example menu's buttons are answered by rules/default.yaml, for the account engine.config.ts has: it
      // comes with those two, in a new project. In one that has its own (init run again after an upgrade, for
      // the types), it could be a menu for an account the project does not have, keyed to rules it has
      // changed, and fail its rules check --strict.
      if (to === MENU && !(created.includes(CONFIG) && created.includes(RULES))) continue
      writing = to
      mkdirSync(path.dirname(file), { recursive: true })
      writeFileSync(file, fill(readTextAsset(`templates/project/${template}`)), { flag: 'wx' })
      created.push(to)
    }
    for (const dir of ['plugins', path.join('test', 'plugins')]) {
      writing = `${dir}/`
      const made = !existsSync(path.join(root, dir))
      mkdirSync(path.join(root, dir), { recursive: true })
      if (made) created.push(`${dir}/`)
    }
  } catch (e) {
    for (const f of created) io.out(`created ${shown(f)}`)
    const inTheWay = writing ? fileInTheWay(root, writing) : undefined
    const why = inTheWay ? `${shown(inTheWay)} is a file where a folder goes; move it aside` : (e as Error).message
    io.err(`wxengine init: cannot write ${writing ? shown(writing) : shownPath(root)} (${why})${created.length > 0 ? '; run init again once it can be, to add what is missing' : ''}`)
    return EXIT_FAILED
  }

  let declarations: Record<string, string>
  try {
    declarations = await declarationFiles()
  } catch (e) {
    for (const f of created) io.out(`created ${shown(f)}`)
    io.err(`wxengine init: the project is there, but the editor types could not be written: ${(e as Error).message}`)
    return EXIT_FAILED
  }
  // Generated: replaced whole, so an upgraded binary never leaves stale declarations behind.
  const typesDir = path.join(root, '.wxengine', 'types')
  try {
    rmSync(typesDir, { recursive: true, force: true })
    for (const [file, content] of Object.entries(declarations)) {
      mkdirSync(path.dirname(path.join(typesDir, file)), { recursive: true })
      writeFileSync(path.join(typesDir, file), pointedAtProjectDocs(file, content))
    }
  } catch (e) {
    for (const f of created) io.out(`created ${shown(f)}`)
    io.err(`wxengine init: the project is there, but the editor types could not be written: ${(e as Error).message}`)
    return EXIT_FAILED
  }

  // The docs the files above point at: a project made next to the single binary has no others. Replaced
  // whole too, so they are those of the wxengine that runs the project.
  const docs = projectDocs()
  const docsDir = path.join(root, PROJECT_DOCS_DIR)
  try {
    rmSync(docsDir, { recursive: true, force: true })
    mkdirSync(docsDir, { recursive: true })
    for (const [page, content] of Object.entries(docs)) writeFileSync(path.join(docsDir, page), content)
  } catch (e) {
    for (const f of created) io.out(`created ${shown(f)}`)
    io.err(`wxengine init: the project is there, but its docs could not be written: ${(e as Error).message}`)
    return EXIT_FAILED
  }

  for (const f of created) io.out(`created ${shown(f)}`)
  for (const f of kept) io.out(`kept ${shown(f)} (exists)`)
  io.out(`wrote ${shown(path.join('.wxengine', 'types'))} (${Object.keys(declarations).length} declaration files, for your editor)`)
  io.out(`wrote ${shown(PROJECT_DOCS_DIR)} (${Object.keys(docs).length} pages of docs; start at ${shown(path.join(PROJECT_DOCS_DIR, 'README.md'))})`)
  const cd = root === process.cwd() ? '' : `cd ${shownPath(root)}\n  `
  // The lines after the first run in the project, after the printed cd.
  const wx = howToRun(root)
  io.out(`\nNext:\n  ${cd}${wx} send hello --local        # the engine answers, in this process\n  ${wx} plugin new weather        # a plugin, its rule and its test\n  ${wx} test                      # run test/plugins/\n  ${wx} start                     # serve WeChat on port 8080 (set your token and AppID first)`)
  return EXIT_OK
}

/**
 * A made-up token (WeChat takes 3 to 32 letters or digits), unless the environment has the account's own;
 * the docs the comments name, in the project (init writes them).
 * The values go in as string literals, whatever they hold: pasted in as they were, an AppID with a quote
 * made a config file that did not parse, and `$&` in one was taken as a replacement pattern.
 */
function fill(template: string): string {
  const token = process.env.WECHAT_TOKEN ?? randomBytes(12).toString('base64url').replace(/[^A-Za-z0-9]/g, 'x')
  const appId = process.env.WECHAT_APPID ?? 'wx0000000000000000'
  return template
    .replace(/'__TOKEN__'/g, () => literal(token))
    .replace(/'__APPID__'/g, () => literal(appId))
    .replace(/__DOCS__/g, PROJECT_DOCS_DIR)
}

/** A single-quoted TypeScript string literal of `value`. */
function literal(value: string): string {
  return `'${JSON.stringify(value).slice(1, -1).replace(/\\"/g, '"').replace(/'/g, "\\'")}'`
}

async function declarationFiles(): Promise<Record<string, string>> {
  if (isSingleBinary()) return JSON.parse(readTextAsset(TYPES_ASSET)) as Record<string, string>
  const { buildDeclarations } = (await import(TYPES_BUILDER)) as typeof import('../../binary/build-types.ts')
  return buildDeclarations()
}

/** The file standing where `to` (relative to root) needs a folder (`rules` a file, for rules/default.yaml), if one does. */
function fileInTheWay(root: string, to: string): string | undefined {
  const parts = to.replace(/\/$/, '').split(/[\\/]/)
  for (let i = 1; i <= parts.length; i++) {
    const at = parts.slice(0, i).join('/')
    const isLast = i === parts.length
    if (!existsSync(path.join(root, at))) return undefined
    // The last part is a folder only when `to` names one (plugins/); a file there is what init skips as kept.
    if ((!isLast || to.endsWith('/')) && !statSync(path.join(root, at)).isDirectory()) return at
  }
  return undefined
}
