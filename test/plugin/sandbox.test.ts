/**
 * What plugin code can reach from inside the sandbox, how its source is loaded (TypeScript, plain JS,
 * relative files), and that the worker program also starts from its .ts file under tsx.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { Worker } from 'node:worker_threads'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { bundleWorkerSource, fileWorkerEntry, useEmbeddedWorkerSource } from '../../core/plugin/worker-entry.ts'
import type { WorkerInit, WorkerToMain } from '../../core/plugin/worker-protocol.ts'
import { ACCOUNT, EXAMPLES_DIR, loadPlugins, text, textOf, type Harness } from './plugin-test-kit.ts'

const SECRET = 'wxengine-secret-value-1234'

describe('escape attempts', () => {
  let closed: Harness
  let withFs: Harness
  before(async () => {
    process.env.WXENGINE_TEST_SECRET = SECRET
    closed = await loadPlugins({ only: ['escape'] })
    withFs = await loadPlugins({ only: ['escape'], settings: { escape: { allow: ['fs'] } } })
  })
  after(async () => {
    delete process.env.WXENGINE_TEST_SECRET
    await closed.dispose()
    await withFs.dispose()
  })

  const report = async (h: Harness) => JSON.parse(textOf(await h.call('escape', text('try')))) as Record<string, string>

  test('by default no built-in module, no file outside the folder, no vm2', async () => {
    const r = await report(closed)
    for (const key of ['fs', 'nodeFs', 'childProcess', 'workerThreads', 'net', 'vm2']) {
      assert.match(r[key]!, /^refused: Cannot find module/, `${key}: ${r[key]}`)
    }
    assert.match(r.outsideFile!, /^refused: /)
  })

  test('process is a stub: no exit, kill, binding; env is empty', async () => {
    const r = await report(closed)
    assert.match(r.exit!, /^refused: .*not a function/)
    assert.match(r.kill!, /^refused: .*not a function/)
    assert.match(r.binding!, /^refused: .*not a function/)
    assert.equal(r.env, 'got {}')
    assert.equal(r.envSecret, 'got undefined')
    assert.equal(r.mainModule, 'got no mainModule')
  })

  test('constructor tricks reach only the sandbox realm', async () => {
    const r = await report(closed)
    assert.equal(r.ctorProcess, 'got undefined')
    assert.equal(r.ctorRequire, 'got no require')
    const all = JSON.stringify(r)
    assert.ok(!all.includes(SECRET), 'the secret leaked')
  })

  test('a built-in granted by `allow` is available, and only that one', async () => {
    const r = await report(withFs)
    assert.equal(r.fs, 'got object')
    assert.equal(r.nodeFs, 'got object')
    assert.match(r.childProcess!, /^refused: Cannot find module/)
  })

  test('`allow` naming a built-in the sandbox never gives (vm2 withholds it) or no built-in: the load is refused, saying so', async () => {
    const refused = await loadPlugins({ only: ['escape'], settings: { escape: { allow: ['fs', 'os', 'node:child_process', 'left-pad'] } } })
    await refused.dispose()
    assert.deepEqual(refused.set.names(), [])
    assert.equal(refused.errors.length, 1)
    assert.equal(refused.errors[0].code, 'PLUGIN_LOAD')
    assert.match(refused.errors[0].reason, /allow names "os", "node:child_process", "left-pad", which the sandbox does not give plugins/)
  })
})

describe('module loading', () => {
  let h: Harness
  before(async () => {
    h = await loadPlugins({ only: ['ts-types', 'js-plain'] })
    assert.deepEqual(h.errors, [])
  })
  after(() => h.dispose())

  test('TypeScript with enums, classes, generics and type-only imports across files', async () => {
    assert.equal(textOf(await h.call('ts-types', text('hi'))), 'hello, user-a happy b a:1')
    assert.equal(textOf(await h.call('ts-types', text('meh :('))), 'hello, user-a sad b a:1')
  })

  test('plain CommonJS JavaScript with an extensionless relative require', async () => {
    assert.equal(textOf(await h.call('js-plain', text('hey'))), 'js: HEY')
  })
})

test('the worker program also runs from its .ts file under tsx', async () => {
  const entry = fileWorkerEntry()
  const init: WorkerInit = {
    name: 'echo',
    dir: join(EXAMPLES_DIR, 'echo'),
    entry: join(EXAMPLES_DIR, 'echo', 'index.ts'),
    config: {},
    allow: [],
    disposeTimeoutMs: 1000,
    logLevel: 'info',
    accounts: [],
    web: { publicUrl: undefined, accounts: [] },
  }
  const worker = entry.eval ? new Worker(entry.source, { eval: true, workerData: init }) : new Worker(entry.file, { workerData: init })
  try {
    const next = () => new Promise<WorkerToMain>((resolve, reject) => {
      worker.once('message', resolve)
      worker.once('error', reject)
    })
    assert.deepEqual(await next(), { t: 'defined', sharedStorage: [] })
    assert.deepEqual(await next(), { t: 'ready' })
    const message = { ...text('from tsx'), raw: {} }
    worker.postMessage({ t: 'call', id: 1, deadline: Date.now() + 5000, message, account: ACCOUNT, match: { rule: 'r', via: 'type', captures: [], groups: {}, fromClick: false, args: {} }, session: { active: false, state: undefined } })
    assert.deepEqual(await next(), { t: 'result', id: 1, result: { kind: 'reply', reply: { type: 'text', content: 'from tsx' } }, sessionOps: [] })
  } finally {
    await worker.terminate()
  }
})



test('an embedded worker bundle (as the single binary makes it) loads plugins with relative imports', async () => {
  // Minified like core/binary's build: vm2's __dirname trap must be handled whatever bundled the worker.
  const esbuild = createRequire(import.meta.url)('esbuild') as typeof import('esbuild')
  const built = esbuild.buildSync({
    entryPoints: [fileURLToPath(new URL('../../core/plugin/sandbox/worker-main.ts', import.meta.url))],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['typescript'],
    minifySyntax: true,
    minifyWhitespace: true,
    keepNames: true,
    write: false,
    logLevel: 'error',
  })
  useEmbeddedWorkerSource(built.outputFiles[0]!.text)
  try {
    const h = await loadPlugins({ only: ['js-plain', 'ts-types'] })
    try {
      assert.deepEqual(h.errors, [])
      assert.equal(textOf(await h.call('js-plain', text('bundled'))), 'js: BUNDLED')
      assert.equal(textOf(await h.call('ts-types', text('x'))), 'hello, user-a happy b a:1')
    } finally {
      await h.dispose()
    }
  } finally {
    useEmbeddedWorkerSource(bundleWorkerSource())
  }
})
