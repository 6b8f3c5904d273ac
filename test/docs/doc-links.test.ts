/**
 * Every `<page>.md#<section>` the project points at (the docs' own links, and the doc comments and messages
 * of core/, plugins/, templates/ and engine.config.ts, which an editor shows a plugin author) names a heading
 * that exists, by GitHub's anchor for it, and every `[text](page.md)` link a page that exists.
 * A newcomer's walkthrough found `docs/rules.md#users` in the config and plugin types: the section is
 * "Users: who may trigger a rule".
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'

const root = path.resolve(import.meta.dirname, '../..')

/** GitHub's anchors of a page's headings (github-slugger: lower case, punctuation dropped, spaces to -, -1 for a repeat). */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>()
  const seen = new Map<string, number>()
  let inCode = false
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (line.startsWith('```')) inCode = !inCode
    const heading = inCode ? null : /^#{1,6} (.*)$/.exec(line)
    if (!heading) continue
    const slug = heading[1]!.trim().toLowerCase().replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-')
    const n = seen.get(slug)
    seen.set(slug, (n ?? -1) + 1)
    anchors.add(n === undefined ? slug : `${slug}-${n + 1}`)
  }
  return anchors
}

function filesUnder(dir: string): string[] {
  return readdirSync(path.join(root, dir)).flatMap((f) => {
    const rel = path.join(dir, f)
    if (f.startsWith('.') || f === 'node_modules') return []
    return statSync(path.join(root, rel)).isDirectory() ? filesUnder(rel) : /\.(ts|mts|mjs|js|md|yaml|json)$/.test(f) ? [rel] : []
  })
}

/** Where `page.md` written in `from` is: a docs page beside a docs page or under docs/, else at the root. */
function pageOf(from: string, written: string): string {
  if (written.startsWith('../')) return path.normalize(path.join(path.dirname(from), written))
  if (written.startsWith('docs/')) return written
  if (from.startsWith('docs/')) return path.join('docs', written)
  // From code and the root README: the root's own pages, else docs/ (messages name `docs/x.md`, comments often `x.md`).
  return existsSync(path.join(root, written)) ? written : path.join('docs', written)
}

test('every page.md#section pointed at is a heading of that page', () => {
  const files = ['README.md', 'engine.config.ts', ...filesUnder('docs'), ...filesUnder('core'), ...filesUnder('plugins'), ...filesUnder('templates')]
  const anchors = new Map<string, Set<string>>()
  const problems: string[] = []
  let links = 0
  for (const file of files) {
    readFileSync(path.join(root, file), 'utf8').split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/((?:\.\.\/|docs\/)?[A-Za-z][\w-]*\.md)#([\w%-]+)/g)) {
        links++
        const page = pageOf(file, m[1]!)
        if (!existsSync(path.join(root, page))) {
          problems.push(`${file}:${i + 1}: ${m[0]}: no page ${page}`)
          continue
        }
        if (!anchors.has(page)) anchors.set(page, anchorsOf(path.join(root, page)))
        if (!anchors.get(page)!.has(decodeURIComponent(m[2]!))) problems.push(`${file}:${i + 1}: ${m[0]}: ${page} has no heading with that anchor`)
      }
    })
  }
  assert.ok(links > 50, `found only ${links} links`)
  assert.deepEqual(problems, [])
})

test('every [text](page.md) link of the docs is a page that exists', () => {
  const problems: string[] = []
  for (const file of ['README.md', ...filesUnder('docs')]) {
    readFileSync(path.join(root, file), 'utf8').split('\n').forEach((line, i) => {
      for (const m of line.matchAll(/\]\(([^)#\s]+\.md)(#[^)]*)?\)/g)) {
        if (/^https?:/.test(m[1]!)) continue
        const page = path.normalize(path.join(path.dirname(file), m[1]!))
        if (!existsSync(path.join(root, page))) problems.push(`${file}:${i + 1}: ${m[0]}: no page ${page}`)
      }
    })
  }
  assert.deepEqual(problems, [])
})

test("every handler of the example rules named by its place (click@default.yaml:68) is that handler, at that line of rules/default.yaml", () => {
  const example = readFileSync(path.join(root, 'rules', 'default.yaml'), 'utf8').split('\n')
  const problems: string[] = []
  let named = 0
  for (const file of ['README.md', ...filesUnder('docs'), ...filesUnder('core')]) {
    readFileSync(path.join(root, file), 'utf8').split('\n').forEach((line, i) => {
      // Not a menu file's place (menus/default.yaml:3:5), which has a column.
      for (const m of line.matchAll(/(?<![\w/])([a-z_]+)(?::[^@\s"]+)?@default\.yaml:(\d+)(?![:\d])/g)) {
        named++
        const at = example[Number(m[2]) - 1] ?? ''
        if (!new RegExp(`^\\s*- type: ${m[1]}\\s*$`).test(at)) problems.push(`${file}:${i + 1}: ${m[0]}: line ${m[2]} of rules/default.yaml is ${JSON.stringify(at.trim())}`)
      }
    })
  }
  assert.ok(named >= 3, `found only ${named}`)
  assert.deepEqual(problems, [])
})
