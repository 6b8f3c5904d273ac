/**
 * Code plugins share: folders of plugins/ named `_something` are not plugins, and every plugin may import
 * from them (core/plugin/shared-code-folders.ts). Before, a plugin's relative imports stopped at its own
 * folder, so two plugins needing the same helper each kept a copy. Run in both isolations: the worker
 * program is the same, but a process is started another way and must find the same folders.
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, describe, test } from 'node:test'
import { compilePluginSources } from '../../core/plugin/compile-plugin-sources.ts'
import { importRootsOf, sharedCodeFolders } from '../../core/plugin/shared-code-folders.ts'
import { loadPlugins, text, textOf, type Harness } from './plugin-test-kit.ts'

const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-shared-'))
const dir = path.join(root, 'plugins')
const outside = path.join(root, 'lib') // linked in as plugins/_linked
after(() => rmSync(root, { recursive: true, force: true }))

function write(file: string, content: string): void {
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, content)
}
const pluginFile = (name: string, imports: string, reply: string) =>
  `import { definePlugin } from 'wxengine/plugin'\n${imports}\nexport default definePlugin({ name: '${name}', handle: (ctx) => ctx.reply.text(${reply}) })\n`

// A TypeScript helper with a type, a module-level counter, and an import of a second shared folder.
write(
  path.join(dir, '_shared', 'greet.ts'),
  `import { shout } from '../_text/shout.ts'\nexport interface Who { name: string }\nlet calls = 0\nexport function greet(who: Who): string {\n  calls++\n  return shout('hello ' + who.name) + ' #' + calls\n}\n`,
)
write(path.join(dir, '_text', 'shout.ts'), `export const shout = (s: string): string => s.toUpperCase()\n`)
write(path.join(outside, 'stars.js'), `exports.stars = (n) => '*'.repeat(n)\n`)
symlinkSync(outside, path.join(dir, '_linked'), 'dir')
write(path.join(dir, 'alpha', 'index.ts'), pluginFile('alpha', `import { greet } from '../_shared/greet.ts'`, "greet({ name: 'alpha' })"))
write(path.join(dir, 'beta', 'index.ts'), pluginFile('beta', `import { greet } from '../_shared/greet'\nimport { stars } from '../_linked/stars.js'`, "greet({ name: 'beta' }) + ' ' + stars(3)"))
// Another plugin's file stays out of reach: shared code goes in a shared folder.
write(path.join(dir, 'gamma', 'index.ts'), pluginFile('gamma', `import { greet } from '../alpha/index.ts'`, 'String(greet)'))
write(path.join(dir, 'gamma', 'util.ts'), 'export const x = 1\n')
// A file outside plugins/ altogether, not linked in.
write(path.join(root, 'secret.ts'), 'export const secret = 42\n')
write(path.join(dir, 'delta', 'index.ts'), pluginFile('delta', `import { secret } from '../../secret.ts'`, 'String(secret)'))
// A shared file that does not compile, and one that imports what is not there.
write(path.join(dir, '_broken', 'prices.ts'), 'export function price(n: number): number {\n  return n *\n}\n')
write(path.join(dir, 'epsilon', 'index.ts'), pluginFile('epsilon', `import { price } from '../_broken/prices.ts'`, 'String(price(2))'))
// A shared file that imports an npm package, which the sandbox does not give, on its line 2.
write(path.join(dir, '_text', 'clock.ts'), "export const unit = 'ms'\nimport ms from 'ms'\nexport const second = ms('1s')\n")
write(path.join(dir, 'zeta', 'index.ts'), pluginFile('zeta', `import { second } from '../_text/clock.ts'`, 'String(second)'))

test('the shared folders: `_` folders of plugins/, a link to a folder too; a plugin reaches its own folder first', () => {
  assert.deepEqual(sharedCodeFolders(dir), ['_broken', '_linked', '_shared', '_text'].map((n) => path.join(dir, n)))
  assert.deepEqual(importRootsOf(path.join(dir, 'alpha')), [path.join(dir, 'alpha'), ...sharedCodeFolders(dir)])
  assert.deepEqual(sharedCodeFolders(path.join(root, 'no-such-folder')), [])
})

for (const isolation of ['thread', 'process'] as const) {
  describe(`plugins importing shared code (${isolation})`, () => {
    let h: Harness
    before(async () => {
      h = await loadPlugins({ dir, only: ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'], isolation })
    })
    after(() => h.dispose())

    test('two plugins import the same shared file; the shared folders are not loaded as plugins', async () => {
      assert.deepEqual(h.set.names().sort(), ['alpha', 'beta'])
      assert.equal(textOf(await h.call('alpha', text('hi'))), 'HELLO ALPHA #1')
      assert.equal(textOf(await h.call('beta', text('hi'))), 'HELLO BETA #1 ***')
    })

    test("each plugin runs its own copy: a shared module's variables are not shared between plugins", async () => {
      assert.equal(textOf(await h.call('alpha', text('hi'))), 'HELLO ALPHA #2')
      assert.equal(textOf(await h.call('alpha', text('hi'))), 'HELLO ALPHA #3')
      assert.equal(textOf(await h.call('beta', text('hi'))), 'HELLO BETA #2 ***')
    })

    test("another plugin's file, and a file outside plugins/, are refused, saying where imports reach", () => {
      const reason = (name: string) => h.errors.find((e) => e.reason.startsWith(`plugin ${name}:`))?.reason ?? ''
      for (const [name, spec] of [['gamma', '../alpha/index.ts'], ['delta', '../../secret.ts']]) {
        assert.match(reason(name), new RegExp(`Cannot find module '${spec.replace(/\./g, '\\.')}'.*no such file in the plugin's folder or a shared one`), name)
        assert.match(reason(name), /the folders beside it whose names start with _, such as .*_shared/, name)
      }
    })

    test('an npm import in a file index.ts imports is refused at that file (it named no file at all)', () => {
      const reason = h.errors.find((e) => e.reason.startsWith('plugin zeta:'))?.reason ?? ''
      const clock = path.join(dir, '_text', 'clock.ts').replace(/[.\\]/g, '\\$&')
      // At its string in the source, as rules check says it (compile-plugin-sources.ts).
      assert.match(reason, new RegExp(`plugin zeta: ${clock}:2:16: Cannot find module 'ms': npm packages are not available`))
    })

    test('a shared file that does not compile refuses the plugin that imports it, at the shared file', () => {
      const reason = h.errors.find((e) => e.reason.startsWith('plugin epsilon:'))?.reason ?? ''
      assert.match(reason, new RegExp(`${path.join(dir, '_broken', 'prices.ts').replace(/[.\\]/g, '\\$&')}:3:1: SyntaxError`))
    })
  })
}

test('rules check follows imports into shared folders as the load does', () => {
  const check = (name: string) => compilePluginSources(path.join(dir, name, 'index.ts'), path.join(dir, name))
  assert.deepEqual(check('alpha'), { errors: [], warnings: [] })
  assert.deepEqual(check('beta'), { errors: [], warnings: [] })
  assert.match(check('gamma').errors.join('\n'), /index\.ts:2:\d+: Cannot find module '\.\.\/alpha\/index\.ts': no such file in the plugin's folder or a shared one/)
  assert.match(check('delta').errors.join('\n'), /Cannot find module '\.\.\/\.\.\/secret\.ts'/)
  assert.match(check('epsilon').errors.join('\n'), /_broken[/\\]prices\.ts:3:1: SyntaxError/)
})
