/**
 * The examples of README.md and docs/*.md that a newcomer copies whole, checked as written:
 * - every ```yaml block that is a rules file (its first key is one of a rules file's) parses as one, with
 *   no error of its own (a newcomer's walkthrough found docs/rules.md's `error:` example cut by a comma);
 *   what depends on the project (a plugin, a picture, a user group) is not asked here, except of the first
 *   one in docs/rules.md, which must load in the project `wxengine init` makes;
 * - every ```ts block that is a whole module (it imports from wxengine/... or node:..., and has no `...` standing for
 *   code left out) type-checks under the project's tsconfig, as a plugin or the configuration would.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { test } from 'node:test'
import { loadConfig } from '../../core/config/load-config.ts'
import { loadRuleSet, parseRuleFile, ruleSetOptionsOf } from '../../core/route/rules/load-rule-set.ts'

const root = path.resolve(import.meta.dirname, '../..')

interface Block {
  /** `docs/rules.md:410`: the line of the opening fence. */
  where: string
  lang: string
  code: string
}

function blocksOf(lang: RegExp): Block[] {
  const files = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
  const blocks: Block[] = []
  for (const file of files) {
    const text = readFileSync(path.join(root, file), 'utf8')
    for (const m of text.matchAll(/^```([\w-]*)\n([\s\S]*?)\n```$/gm)) {
      if (!lang.test(m[1]!)) continue
      blocks.push({ where: `${file}:${text.slice(0, m.index).split('\n').length}`, lang: m[1]!, code: m[2]! })
    }
  }
  return blocks
}

/** `...` standing for code left out: not a spread (`...list`) nor in a string (`'Send "survey"...'`). */
const LEFT_OUT = /\.\.\.(?![\w$[({'"`])/

const RULES_FILE_KEYS = /^(account|rules|handlers|welcome|default|error):/

test('docs: every rules file example parses as a rules file', () => {
  const rulesFiles = blocksOf(/^ya?ml$/).filter((b) => RULES_FILE_KEYS.test(b.code.split('\n').find((l) => l.trim() !== '' && !l.startsWith('#')) ?? ''))
  assert.ok(rulesFiles.length >= 5, `found only ${rulesFiles.length} rules file examples`)
  const failures = rulesFiles.flatMap((b) => {
    const parsed = parseRuleFile(b.code, { rel: 'example.yaml', path: 'example.yaml' })
    return 'errors' in parsed ? parsed.errors.map((e) => `${b.where}: example.yaml:${e.line}:${e.column}: ${e.message}`) : []
  })
  assert.deepEqual(failures, [])
})

test("docs/rules.md's first rules example loads as copied into a fresh `wxengine init` project", async () => {
  // It named `users: admins`, a group a new project does not define: the first sample a newcomer copied
  // was refused. The project's own checks, not only the parse above: the configuration init writes.
  const text = readFileSync(path.join(root, 'docs/rules.md'), 'utf8')
  const sample = /^## Text rules\n+```yaml\n([\s\S]*?)\n```$/m.exec(text)?.[1]
  assert.ok(sample, 'docs/rules.md: no ```yaml block right under "## Text rules"')
  const config = loadConfig({ root: path.join(root, 'templates/project'), env: { WECHAT_TOKEN: 'abc123', WECHAT_APPID: 'wx0123456789abcdef' } })
  assert.ok(config.ok)
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-doc-rules-'))
  try {
    writeFileSync(path.join(dir, 'example.yaml'), sample)
    const loaded = await loadRuleSet(dir, ruleSetOptionsOf(config.value))
    assert.deepEqual(loaded.ok ? [] : loaded.errors.map((e) => e.message), [])
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('docs: every whole-module TypeScript example type-checks', () => {
  const modules = blocksOf(/^ts$|^typescript$/).filter((b) => /^import .* from '(wxengine\/(plugin|config|testkit)|node:[a-z/]+)'$/m.test(b.code) && !LEFT_OUT.test(b.code))
  assert.ok(modules.length >= 5, `found only ${modules.length} whole-module examples`)
  // Inside the project, so that `wxengine/...` resolves as it does for plugins/ and test/plugins/.
  const dir = path.join(root, 'test', `.doc-examples-${process.pid}`)
  mkdirSync(dir, { recursive: true })
  try {
    const names = new Map<string, string>()
    modules.forEach((b, i) => {
      const name = `example-${i}.ts`
      names.set(name, b.where)
      writeFileSync(path.join(dir, name), b.code)
    })
    writeFileSync(path.join(dir, 'tsconfig.json'), JSON.stringify({ extends: '../../tsconfig.json', include: ['*.ts'] }))
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    const r = spawnSync(process.execPath, [tsc, '-p', path.join(dir, 'tsconfig.json'), '--noEmit', '--pretty', 'false'], { cwd: root, encoding: 'utf8', timeout: 120_000 })
    assert.equal(r.error, undefined)
    // Each error said at the doc's place: docs/plugins.md:482 (example-3.ts(5,7): ...).
    const out = (r.stdout + r.stderr).replace(/^.*?(example-\d+\.ts)\((\d+),(\d+)\)/gm, (_, name: string, line: string, col: string) => `${names.get(name)} (line ${line}, column ${col} of the block)`)
    assert.equal(out, '', 'type errors in the docs examples')
    assert.equal(r.status, 0)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})
