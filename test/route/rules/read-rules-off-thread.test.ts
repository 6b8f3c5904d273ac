/**
 * readRulesOffThread: rules files parsed in a worker thread give exactly what parsing them here gives (the
 * same errors with file, line and column, the same warnings, the same rule set), and a worker that cannot
 * start or dies costs one warn line and a parse on this thread, never the load. Small rules whose regexes are
 * judged already are parsed here, without a worker; a new regex among them sends them to the worker.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { randomUUID } from 'node:crypto'
import { after, describe, it } from 'node:test'
import { threadId } from 'node:worker_threads'
import { createMemoryLogger } from '../../../core/log/logger.ts'
import { loadRuleSet, readRuleFiles, type LoadRuleSetOptions } from '../../../core/route/rules/load-rule-set.ts'
import { IN_THREAD_MAX_BYTES, readRulesOffThread, rulesParseProgram } from '../../../core/route/rules/read-rules-off-thread.ts'
import { knownVerdicts, rememberVerdicts } from '../../../core/route/rules/regex-worst-case.ts'
import { tempRulesDirs } from '../../support/rules-dir.ts'

const rulesDir = tempRulesDirs('rules-thread')

const rule = (name: string, keywords = `[${name}]`) => `  - name: ${name}\n    keywords: ${keywords}\n    plugin: p\n`

/** Always the worker, whatever the size: what these tests compare. */
const WORKER_ONLY = { inThreadMaxBytes: 0 }

/** Directories that fail in each way the loader knows, and some that load with warnings (as in load-rule-set.test.ts). */
const CASES: Record<string, { files: Record<string, string>; opts?: LoadRuleSetOptions }> = {
  'YAML syntax error': { files: { 'main.yaml': 'rules:\n  - name: a\n    keywords: [a]\n     plugin: p\n' } },
  'duplicate key': { files: { 'main.yaml': 'rules:\n  - name: a\n    keywords: [a]\n    name: b\n    plugin: p\n' } },
  'a regex in double quotes': { files: { 'main.yaml': `rules:\n  - name: a\n    keywords: [{ regex: "^a\\s+b$" }]\n    plugin: p\n` } },
  'unknown key with a suggestion': { files: { 'main.yaml': `rules:\n${rule('a')}  - name: b\n    keywords: [b]\n    prority: 2\n    plugin: p\n` } },
  'not a mapping': { files: { 'main.yaml': '- a\n- b\n' } },
  'a keyword of two kinds, a bad regex, a backtracking regex': {
    files: { 'main.yaml': `rules:\n${rule('a', '[{ exact: a, prefix: b }]')}${rule('b', "[{ regex: '(' }]")}${rule('c', "[{ regex: '^(a+)+$' }]")}` },
  },
  // recheck, loaded lazily, inside the worker too.
  'a regex with three repetitions over the same characters': { files: { 'main.yaml': `rules:\n${rule('a', "[{ regex: '^(.*)\\s+(.*)$' }]")}` } },
  'nested too deep': { files: { 'main.yaml': `rules: ${'['.repeat(200)}${']'.repeat(200)}\n` } },
  'an alias bomb': {
    files: { 'main.yaml': `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n` },
  },
  'duplicate names and a second welcome across files': {
    files: {
      'a.yaml': `rules:\n${rule('same')}welcome: { reply: { type: text, content: hi } }\n`,
      'b.yaml': `rules:\n${rule('same')}welcome: { reply: { type: text, content: hello } }\n`,
    },
  },
  'a file in an account folder naming another account': { files: { 'acct/a.yaml': `account: other\nrules:\n${rule('a')}` } },
  'a file over 2 MB': { files: { 'big.yaml': `# ${'x'.repeat(2 * 1_048_576)}\n` } },
  'warnings: a regex that is a literal, an account not configured, a regex with no literal': {
    files: {
      'a.yaml': `rules:\n${rule('lit', "[{ regex: 'hello' }]")}${rule('any', "[{ regex: '^.{3}$' }]")}`,
      'elsewhere/b.yaml': `rules:\n${rule('b')}`,
    },
    opts: { accounts: ['acct'] },
  },
  'no rules folder': { files: {} },
}

/** What loadRuleSet gives, minus the compiled set's functions: its size and plugin names stand for it. */
function comparable(r: Awaited<ReturnType<typeof loadRuleSet>>) {
  return r.ok ? { ok: true, warnings: r.warnings, size: r.ruleSet.size, plugins: r.ruleSet.pluginNames() } : r
}

describe('rules parsed in a worker thread', () => {
  it('are parsed off this thread, into the same files and warnings', async () => {
    const dir = await rulesDir({ 'a.yaml': `rules:\n${rule('a')}${rule('b', "[{ contains: x }, { regex: '^y(\\d+)$' }]")}`, 'acct/b.yaml': `rules:\n${rule('c')}` })
    const { logger, lines } = createMemoryLogger('debug')
    const offThread = await readRulesOffThread(logger, WORKER_ONLY)(dir, { accounts: ['acct'] })
    assert.deepEqual(offThread, await readRuleFiles(dir, { accounts: ['acct'] }))
    const parsed = lines.find((l) => l.msg === 'rules parsed in a worker thread')
    assert.ok(parsed, JSON.stringify(lines))
    assert.equal(typeof parsed.threadId, 'number')
    assert.notEqual(parsed.threadId, threadId)
    assert.deepEqual(lines.filter((l) => (l.level as number) >= 40), [])
  })

  for (const [name, { files, opts }] of Object.entries(CASES)) {
    it(`give what this thread gives: ${name}`, async () => {
      const dir = name === 'no rules folder' ? join(await rulesDir({}), 'rules') : await rulesDir(files)
      const { logger, lines } = createMemoryLogger('debug')
      const here = await loadRuleSet(dir, opts)
      assert.ok(!here.ok || here.warnings.length > 0, 'a case with something to say')
      const there = await loadRuleSet(dir, opts, readRulesOffThread(logger, WORKER_ONLY))
      assert.deepEqual(comparable(there), comparable(here))
      assert.ok(lines.some((l) => l.msg === 'rules parsed in a worker thread'), JSON.stringify(lines))
    })
  }
})

describe("regexes' worst cases (slow-regex.ts asks recheck, 10-300 ms a regex)", () => {
  it('what the worker learns comes back, and what this thread knows is handed to the worker', async () => {
    const { logger } = createMemoryLogger('debug')
    // Three repetitions, quadratic: asked of recheck, accepted. The worker's verdict comes back here.
    const learnt = await rulesDir({ 'a.yaml': `rules:\n${rule('a', "[{ regex: '^learnt\\s+(\\S+)\\s+(.*)$' }]")}` })
    assert.equal((await loadRuleSet(learnt, {}, readRulesOffThread(logger, WORKER_ONLY))).ok, true)
    assert.deepEqual(new Map(knownVerdicts()).get('iu/^learnt\\s+(\\S+)\\s+(.*)$'), { kind: 'polynomial', degree: 2, hot: ['\\s', '.'] })
    // A verdict known here is used there, not asked again: one planted here (as no regex of this shape would
    // get from recheck) decides the worker's load.
    const source = '^planted\\s+(\\S+)\\s+(.*)$'
    rememberVerdicts([[`iu/${source}`, { kind: 'polynomial', degree: 4, hot: ['planted'] }]])
    const planted = await rulesDir({ 'a.yaml': `rules:\n${rule('a', `[{ regex: '${source}' }]`)}` })
    const there = await loadRuleSet(planted, {}, readRulesOffThread(logger, WORKER_ONLY))
    assert.equal(there.ok, false)
    assert.match(there.ok ? '' : there.errors[0]!.message, /has 4 repetitions in a row that can take the same characters \("planted"\)/)
  })
})

describe('small rules, parsed on this thread', () => {
  const here = 'rules parsed on the serving thread (small, and every regex in them judged already)'
  const inWorker = 'rules parsed in a worker thread'
  // A regex of three repetitions (recheck is asked) that no earlier run can have judged: verdicts are kept on disk.
  const fresh = () => `^fresh${randomUUID().slice(0, 8)}\\s+(\\S+)\\s+(.*)$`

  it('without a worker, into what the worker gives', async () => {
    const dir = await rulesDir({ 'a.yaml': `rules:\n${rule('a')}${rule('b', "[{ contains: x }, { regex: '^y(\\d+)$' }]")}`, 'acct/b.yaml': `rules:\n${rule('c')}` })
    const { logger, lines } = createMemoryLogger('debug')
    const small = await readRulesOffThread(logger)(dir, { accounts: ['acct'] })
    assert.deepEqual(small, await readRulesOffThread(logger, WORKER_ONLY)(dir, { accounts: ['acct'] }))
    assert.deepEqual(lines.map((l) => l.msg), [here, inWorker])
  })

  it('refusals too, with file, line and column', async () => {
    const { files } = CASES['a keyword of two kinds, a bad regex, a backtracking regex']!
    const dir = await rulesDir(files)
    const { logger, lines } = createMemoryLogger('debug')
    const small = await loadRuleSet(dir, {}, readRulesOffThread(logger))
    assert.equal(small.ok, false)
    assert.deepEqual(small, await loadRuleSet(dir))
    assert.deepEqual(lines.map((l) => l.msg), [here])
  })

  it('a regex not judged yet sends them to the worker (recheck would hold this thread), and its verdict comes back', async () => {
    const source = fresh()
    const dir = await rulesDir({ 'a.yaml': `rules:\n${rule('a')}${rule('b', `[{ regex: '${source}' }]`)}` })
    const { logger, lines } = createMemoryLogger('debug')
    const first = await loadRuleSet(dir, {}, readRulesOffThread(logger))
    assert.equal(first.ok, true)
    assert.deepEqual(lines.map((l) => l.msg), ['rules parsed in a worker thread: a regex in them is new (recheck would hold the serving thread)', inWorker])
    assert.match(String(lines[0]!.reason), new RegExp(`no verdict yet on the regex "iu/\\^fresh`))
    assert.equal(new Map(knownVerdicts()).get(`iu/${source}`)?.kind, 'polynomial')
    // Judged now: the next load of the same files stays here.
    lines.length = 0
    assert.deepEqual(comparable(await loadRuleSet(dir, {}, readRulesOffThread(logger))), comparable(first))
    assert.deepEqual(lines.map((l) => l.msg), [here])
  })

  it(`over ${IN_THREAD_MAX_BYTES / 1024} KiB in all they go to the worker`, async () => {
    // Two files, each under the limit, over it together.
    const half = `# ${'x'.repeat(IN_THREAD_MAX_BYTES / 2)}\n`
    const dir = await rulesDir({ 'a.yaml': `${half}rules:\n${rule('a')}`, 'b.yaml': `${half}rules:\n${rule('b')}` })
    const { logger, lines } = createMemoryLogger('debug')
    assert.deepEqual(comparable(await loadRuleSet(dir, {}, readRulesOffThread(logger))), comparable(await loadRuleSet(dir)))
    assert.deepEqual(lines.map((l) => l.msg), [inWorker])
  })
})

describe('a parse worker that fails', () => {
  const dir = rulesDir({ 'a.yaml': `rules:\n${rule('a')}`, 'b.yaml': `rules:\n${rule('a')}` })
  after(() => rulesParseProgram.useEmbedded(rulesParseProgram.bundle()))

  const cases = {
    'cannot start (its program does not compile)': { program: 'this is not JavaScript', reason: /SyntaxError|Unexpected/ },
    'throws as it starts': { program: 'throw new Error("no parser here")', reason: /no parser here/ },
    'exits without answering': { program: 'process.exit(7)', reason: /exited \(code 7\) before it answered/ },
    // It held its reload, and the watcher's close after it, for ever.
    'never answers': { program: 'setInterval(() => {}, 1000)', reason: /did not answer within 500 ms/ },
  }
  for (const [name, { program, reason }] of Object.entries(cases)) {
    it(`${name}: the files are parsed here, with one warn line saying why`, async () => {
      rulesParseProgram.useEmbedded(program)
      const { logger, lines } = createMemoryLogger('debug')
      const there = await loadRuleSet(await dir, {}, readRulesOffThread(logger, { timeoutMs: 500, inThreadMaxBytes: 0 }))
      assert.deepEqual(there, await loadRuleSet(await dir))
      const warned = lines.filter((l) => (l.level as number) >= 40)
      assert.equal(warned.length, 1, JSON.stringify(lines))
      assert.match(String(warned[0]!.reason), reason)
      assert.match(String(warned[0]!.msg), /^rules parsed on the serving thread \(answers wait meanwhile\): the parse worker failed: /)
    })
  }
})
