/**
 * A reload parses rules/ in a worker thread (core/route/rules/read-rules-off-thread.ts), so a large rules file
 * does not hold the answers meanwhile (small ones are parsed here, sooner than a worker starts); and a runtime
 * closed after reloads leaves no thread keeping the process alive.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, it } from 'node:test'
import { threadId } from 'node:worker_threads'
import { IN_THREAD_MAX_BYTES } from '../../core/route/rules/read-rules-off-thread.ts'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { startHarness } from '../support/engine-harness.ts'

const REPO = path.resolve(import.meta.dirname, '../..')
const temps: string[] = []
after(() => {
  for (const t of temps) rmSync(t, { recursive: true, force: true })
})

const small = (content: string) => `rules:\n  - name: hello\n    keywords: [hello]\n    reply: { type: text, content: ${content} }\n`
/** Over IN_THREAD_MAX_BYTES, so a reload hands it to the worker. */
const hello = (content: string) => `# ${'x'.repeat(IN_THREAD_MAX_BYTES)}\n${small(content)}`

it('a reload parses the rules in a worker thread and serves what it parsed', async () => {
  const h = await startHarness({ rules: { 'a.yaml': hello('before') } })
  try {
    assert.equal((await h.post('plain', push.text('u1', 'hello'))).reply?.Content, 'before')
    // The start-up load parsed here (nothing was served yet): no worker so far.
    assert.equal(h.lines.filter((l) => l.msg === 'rules parsed in a worker thread').length, 0)

    writeFileSync(path.join(h.dir, 'rules', 'a.yaml'), hello('after'))
    assert.equal(await h.runtime.reload(), true)
    const parsed = h.lines.filter((l) => l.msg === 'rules parsed in a worker thread')
    assert.equal(parsed.length, 1, JSON.stringify(h.lines))
    assert.notEqual(parsed[0]!.threadId, threadId)
    assert.equal((await h.post('plain', push.text('u1', 'hello'))).reply?.Content, 'after')

    // A refused reload names file, line and column as before, parsed over there.
    writeFileSync(path.join(h.dir, 'rules', 'a.yaml'), `${hello('broken')}    prority: 1\n`)
    assert.equal(await h.runtime.reload(), false)
    const refused = h.lines.find((l) => l.msg?.toString().startsWith('reload refused'))
    assert.deepEqual(refused?.problems, [`${path.join(h.dir, 'rules', 'a.yaml')}:6:5: rule "hello": unknown key "prority" (did you mean "priority"?); allowed here: name, keywords, foldCase, foldWidth, priority, enabled, users, plugin, args, reply`])
    assert.equal(h.lines.filter((l) => l.msg === 'rules parsed in a worker thread').length, 2)
    assert.deepEqual(h.lines.filter((l) => l.level === 40), [])
  } finally {
    await h.close()
  }
})

it('a reload of small rules parses them on this thread, without a worker', async () => {
  const h = await startHarness({ rules: { 'a.yaml': small('before') } })
  try {
    writeFileSync(path.join(h.dir, 'rules', 'a.yaml'), small('after'))
    assert.equal(await h.runtime.reload(), true)
    assert.equal((await h.post('plain', push.text('u1', 'hello'))).reply?.Content, 'after')
    assert.equal(h.lines.filter((l) => l.msg === 'rules parsed on the serving thread (small, and every regex in them judged already)').length, 1)
    assert.equal(h.lines.filter((l) => l.msg === 'rules parsed in a worker thread').length, 0)
  } finally {
    await h.close()
  }
})

it('a runtime closed after a reload lets the process end by itself', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-reload-close-'))
  temps.push(dir)
  mkdirSync(path.join(dir, 'rules'))
  mkdirSync(path.join(dir, 'plugins'))
  writeFileSync(path.join(dir, 'rules', 'a.yaml'), hello('hi'))
  // No process.exit: the child ends when nothing (a server, a timer, a thread) is left holding it.
  const script = `
    import { loadConfig } from ${JSON.stringify(path.join(REPO, 'core/config/load-config.ts'))}
    import { createMemoryLogger } from ${JSON.stringify(path.join(REPO, 'core/log/logger.ts'))}
    import { startRuntime } from ${JSON.stringify(path.join(REPO, 'core/runtime.ts'))}
    const dir = ${JSON.stringify(dir)}
    const accounts = [{ id: 'plain', token: 'plaintoken', appId: 'wxplain000000001', mode: 'plaintext' }]
    const loaded = loadConfig({ root: dir, env: {}, overrides: { rulesDir: dir + '/rules', pluginsDir: dir + '/plugins', dataDir: dir + '/data', store: { kind: 'memory' }, defaultAccount: 'plain', accounts } })
    if (!loaded.ok) throw new Error(loaded.error.reason)
    const { logger, lines } = createMemoryLogger('debug')
    const runtime = await startRuntime(loaded.value, { log: logger, listen: false })
    const reloaded = [await runtime.reload(), await runtime.reload()]
    await runtime.close()
    process.stdout.write(JSON.stringify({ reloaded, inWorker: lines.filter((l) => l.msg === 'rules parsed in a worker thread').length }))
  `
  const scriptFile = path.join(dir, 'close.mts')
  writeFileSync(scriptFile, script)
  const child = spawn(process.execPath, ['--import', 'tsx', scriptFile], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d))
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d))
  // Generous: a hang, not a speed, is what this looks for.
  const hung = setTimeout(() => child.kill('SIGKILL'), 30_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((r) => child.once('exit', (c, s) => r([c, s])))
  clearTimeout(hung)
  assert.equal(signal, null, `the process did not end by itself after close:\n${out}\n${err}`)
  assert.equal(code, 0, err)
  assert.deepEqual(JSON.parse(out), { reloaded: [true, true], inWorker: 2 })
})
