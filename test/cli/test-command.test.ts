/**
 * `wxengine test`: a project's tests run by the CLI itself, in a project with no node_modules (as next to
 * the single binary; test/binary runs the same inside the binary).
 */
import assert from 'node:assert/strict'
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { makeProject, type CliResult, type Project } from './cli-harness.ts'

let project: Project

before(() => {
  project = makeProject()
})
after(() => project.remove())

/** Writes files (path -> content) into the project, runs `wxengine test <args>`, removes them again. */
async function runWith(files: Record<string, string>, args: string[]): Promise<CliResult> {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(project.dir, file)), { recursive: true })
    writeFileSync(path.join(project.dir, file), content)
  }
  try {
    return await project.run(['test', ...args])
  } finally {
    rmSync(path.join(project.dir, 'test'), { recursive: true, force: true })
    rmSync(path.join(project.dir, 'node_modules'), { recursive: true, force: true })
  }
}

/** node 20 and 22 print TAP into a pipe, 23 and later their spec format: the summary lines differ by one character. */
const summary = (out: string, name: string): number => Number(new RegExp(`^(?:#|ℹ) ${name} (\\d+)$`, 'm').exec(out)?.[1])

const PASSING = `
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createTestClient, type TestClient } from 'wxengine/testkit'

let client: TestClient
before(async () => {
  client = await createTestClient({ root: fileURLToPath(new URL('../..', import.meta.url)) })
})
after(() => client.close())

test('echo answers through the real engine', async () => {
  await client.expectReply('echo hi', 'hi')
})
`

test('runs test/plugins/ with the test kit; exit 0 when every test passes', async () => {
  const r = await runWith({ 'test/plugins/echo.test.ts': PASSING }, [])
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.equal(summary(r.stdout, 'pass'), 1)
  assert.equal(summary(r.stdout, 'fail'), 0)
  // One suite per file, named by its path.
  assert.match(r.stdout, /test\/plugins\/echo\.test\.ts/)
})

test('a failing test: exit 1, the other files still run, the failure says where', async () => {
  const r = await runWith(
    {
      'test/plugins/a-echo.test.ts': PASSING,
      'test/plugins/b-wrong.test.ts': `import assert from 'node:assert/strict'
import { test } from 'node:test'

test('expects the wrong thing', () => {
  const n: number = 1
  assert.equal(n, 2)
})
`,
    },
    [],
  )
  assert.equal(r.code, 1, r.stdout + r.stderr)
  assert.equal(summary(r.stdout, 'pass'), 1)
  assert.equal(summary(r.stdout, 'fail'), 1)
  // The line of the .ts file (sucrase keeps lines where they were).
  assert.match(r.stdout, /b-wrong\.test\.ts:6:\d+/)
})

test("a failed expectation of the test kit points at the test's line, not the kit's: the stack starts at the call", async () => {
  const r = await runWith(
    {
      'test/plugins/expects.test.ts': `import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createTestClient, type TestClient } from 'wxengine/testkit'

let client: TestClient
before(async () => {
  client = await createTestClient({ root: fileURLToPath(new URL('../..', import.meta.url)) })
})
after(() => client.close())

test('reply', async () => {
  await client.expectReply('echo hi', 'nope')
})
test('no reply', async () => {
  const c = client
  await c.expectNoReply('echo hi')
})
test('sent', async () => {
  await client.waitForSent({ timeoutMs: 50 })
})
`,
    },
    [],
  )
  assert.equal(r.code, 1, r.stdout + r.stderr)
  assert.equal(summary(r.stdout, 'fail'), 3)
  // node 20 and 22 print each failure's stack into a pipe as TAP's \`stack: |-\` block, 23 and later their spec
  // format (the error, then its \`at\` lines); either way its first frame is where the failure is.
  const tapFrames = [...r.stdout.matchAll(/stack: \|-\n\s+(.*)/g)].map((m) => m[1])
  const specFrames = r.stdout.split('AssertionError [ERR_ASSERTION]').slice(1).map((failure) => /^\s+at (.*)$/m.exec(failure)?.[1])
  const firstFrames = tapFrames.length > 0 ? tapFrames : specFrames
  assert.equal(firstFrames.length, 3, r.stdout)
  const file = path.join(project.dir, 'test/plugins/expects.test.ts')
  assert.deepEqual(firstFrames, [`TestContext.<anonymous> (${file}:12:16)`, `TestContext.<anonymous> (${file}:16:11)`, `TestContext.<anonymous> (${file}:19:16)`])
  assert.doesNotMatch(r.stdout, /core\/testkit/)
})

test('a file that does not compile fails as its own suite, named with file, line and column', async () => {
  const r = await runWith(
    {
      'test/plugins/a-echo.test.ts': PASSING,
      'test/plugins/broken.test.ts': `import { test } from 'node:test'\n\ntest('x', () => {})\nlet b = ;\n`,
    },
    [],
  )
  assert.equal(r.code, 1, r.stdout + r.stderr)
  assert.equal(summary(r.stdout, 'pass'), 1)
  assert.match(r.stdout, /broken\.test\.ts:4:9: Unexpected token/)
})

test('a file that throws while loading names itself and its line, not the runner (test.ts) that declared its suite', async () => {
  try {
    const r = await runWith(
      {
        'plugins/x/a-throws.test.ts': `import { test } from 'node:test'\n\ntest('a', () => {})\nthrow new Error('boom at the top')\n`,
        // Sucrase lets it through, V8 refuses it: the file and line were only in the stack's header.
        'plugins/x/b-twice.test.ts': `import { test } from 'node:test'\n\nlet a = 1\nlet a = 2\ntest('a', () => {})\n`,
        'plugins/x/c-helper.ts': `export const v = 1\nthrow new TypeError('helper broke')\n`,
        'plugins/x/c-imports.test.ts': `import { test } from 'node:test'\nimport { v } from './c-helper.ts'\ntest('v', () => { void v })\n`,
      },
      ['plugins/x'],
    )
    assert.equal(r.code, 1, r.stdout + r.stderr)
    const dir = path.join(project.dir, 'plugins/x')
    assert.ok(r.stdout.includes(`${dir}/a-throws.test.ts:4: boom at the top`), r.stdout)
    assert.ok(r.stdout.includes(`${dir}/b-twice.test.ts:4: Identifier 'a' has already been declared`), r.stdout)
    // The import line, and the error's own class; its stack still starts in the helper.
    assert.ok(r.stdout.includes(`${dir}/c-imports.test.ts:2: helper broke`), r.stdout)
    assert.match(r.stdout, /TypeError/)
    assert.ok(r.stdout.includes(`${dir}/c-helper.ts:2:`), r.stdout)
  } finally {
    rmSync(path.join(project.dir, 'plugins', 'x'), { recursive: true, force: true })
  }
})

test('relative helpers in TypeScript (also imported as .js), JSON, import.meta, top-level await, project packages', async () => {
  const r = await runWith(
    {
      'test/plugins/helpers/greet.ts': `export const greet = (name: string): string => \`hello \${name}\`\nexport const here = import.meta.url\n`,
      'test/plugins/helpers/index.ts': `export { greet } from './greet.ts'\n`,
      'test/plugins/data.json': `{ "answer": 42 }`,
      'node_modules/left-pad/package.json': `{ "name": "left-pad", "main": "index.js" }`,
      'node_modules/left-pad/index.js': `module.exports = (s, n) => String(s).padStart(n, ' ')\n`,
      'test/plugins/helpers.test.ts': `import assert from 'node:assert/strict'
import { test } from 'node:test'
import { greet, here } from './helpers/greet.js'
import * as viaIndex from './helpers'
import data from './data.json'
import leftPad from 'left-pad'
import { definePlugin } from 'wxengine/plugin'
import { defineConfig } from 'wxengine/config'

const waited = await new Promise<string>((resolve) => setTimeout(() => resolve('after a wait'), 5))

test('everything resolved', () => {
  assert.equal(greet('a'), 'hello a')
  assert.equal(viaIndex.greet('b'), 'hello b')
  assert.match(here, /^file:\\/\\/.*\\/test\\/plugins\\/helpers\\/greet\\.ts$/)
  assert.match(import.meta.url, /helpers\\.test\\.ts$/)
  assert.equal(data.answer, 42)
  assert.equal(leftPad('x', 3), '  x')
  assert.equal(waited, 'after a wait')
  const def = { name: 'p', handle: () => undefined }
  assert.equal(definePlugin(def), def)
  assert.deepEqual(defineConfig({ port: 1 }), { port: 1 })
})
`,
    },
    ['test/plugins/helpers.test.ts'],
  )
  assert.equal(r.code, 0, r.stdout + r.stderr)
  assert.equal(summary(r.stdout, 'pass'), 1)
})

test('top-level await in an imported helper is refused with the reason', async () => {
  const r = await runWith(
    {
      'test/plugins/slow-helper.ts': `export const v = await Promise.resolve(1)\n`,
      'test/plugins/uses-helper.test.ts': `import { test } from 'node:test'\nimport { v } from './slow-helper.ts'\ntest('v', () => { void v })\n`,
    },
    [],
  )
  assert.equal(r.code, 1)
  assert.match(r.stdout, /slow-helper\.ts: top-level await works in test files only, not in the modules they import/)
})

test("a plugin using wxengine/plugin's dialogue() runs under the test kit, and a test file can import it too", async () => {
  const plugin = `import { definePlugin, dialogue } from 'wxengine/plugin'
export default definePlugin({
  name: 'ask',
  handle: dialogue<{ name: string; age: number }>({
    ttlSeconds: 60,
    cancel: ['stop'],
    steps: [
      { key: 'name', ask: 'Name?' },
      { key: 'age', ask: (so) => 'Age, ' + so.name + '?', parse: (t) => (/^\\d+$/.test(t) ? Number(t) : undefined), retry: 'A number, please.' },
    ],
    done: (a) => a.name + ' is ' + a.age,
  }),
})
`
  const test = `import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { dialogue } from 'wxengine/plugin'
import { createTestClient, type TestClient } from 'wxengine/testkit'

let client: TestClient
before(async () => {
  client = await createTestClient({ root: fileURLToPath(new URL('../..', import.meta.url)) })
})
after(() => client.close())

test('the dialogue', async () => {
  await client.expectReply('ask', 'Name?')
  await client.expectReply('Ann', 'Age, Ann?')
  await client.expectReply('old', 'A number, please.')
  await client.expectReply('41', 'Ann is 41')
  await client.expectReply('ask', 'Name?')
  await client.expectReply('STOP', 'Cancelled.')
})

test('dialogue() checks its spec where it is called', () => {
  assert.throws(() => dialogue({ ttlSeconds: 60, steps: [], done: () => 'x' }), /steps must be a non-empty array/)
})
`
  try {
    const r = await runWith(
      {
        'plugins/ask/index.ts': plugin,
        'rules/ask.yaml': 'rules:\n  - name: ask\n    keywords: [ask]\n    plugin: ask\n',
        'test/plugins/ask.test.ts': test,
      },
      [],
    )
    assert.equal(r.code, 0, r.stdout + r.stderr)
    assert.equal(summary(r.stdout, 'pass'), 2)
  } finally {
    rmSync(path.join(project.dir, 'plugins', 'ask'), { recursive: true, force: true })
    rmSync(path.join(project.dir, 'rules', 'ask.yaml'), { force: true })
  }
})

test('a name wxengine/testkit does not export is an error naming what it does export', async () => {
  const r = await runWith({ 'test/plugins/x.test.ts': `import { test } from 'node:test'\nimport { expectReply } from 'wxengine/testkit'\ntest('x', () => expectReply('hi'))\n` }, [])
  assert.equal(r.code, 1)
  assert.match(r.stdout, /'wxengine\/testkit' has no export 'expectReply'; it exports TEST_PUBLIC_URL, createTestClient, push/)
})

test('a missing import names the specifier and the importing file', async () => {
  const r = await runWith({ 'test/plugins/x.test.ts': `import { nope } from './not-there.ts'\nvoid nope\n` }, [])
  assert.equal(r.code, 1)
  assert.match(r.stdout, /Cannot find module '\.\/not-there\.ts' imported from .*x\.test\.ts/)
})

test('no test files: exit 1 and where it looked; a path that does not exist: exit 2', async () => {
  const none = await runWith({}, [])
  assert.equal(none.code, 2, none.stderr)
  assert.match(none.stderr, /test\/plugins does not exist \(tests are looked for in test\/plugins\/ of the project/)

  const empty = await runWith({ 'test/plugins/README.md': 'no tests yet\n' }, [])
  assert.equal(empty.code, 1)
  assert.match(empty.stderr, /^wxengine test: no test files \(\*\.test\.ts, \*\.test\.js\) in test\/plugins$/m)

  const missing = await runWith({}, ['test/nowhere.test.ts'])
  assert.equal(missing.code, 2)
  assert.match(missing.stderr, /^wxengine test: test\/nowhere\.test\.ts does not exist$/m)
})
