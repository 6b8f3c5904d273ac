/**
 * A Node global the sandbox does not have says what to do (found by a plugin-author review: a plugin calling
 * its shop's order API with fetch got "ReferenceError: fetch is not defined", and nothing in the docs said
 * how a plugin makes an HTTP request).
 */
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { errorOf, loadPlugins, text, type Harness } from './plugin-test-kit.ts'

// A project's plugins/, beside the docs `wxengine init` writes: the error names the page there.
const project = mkdtempSync(path.join(os.tmpdir(), 'wxengine-missing-globals-'))
const dir = path.join(project, 'plugins')
mkdirSync(path.join(project, '.wxengine', 'docs'), { recursive: true })
writeFileSync(path.join(project, '.wxengine', 'docs', 'plugins.md'), '# Plugins\n')
const plugin = (name: string, source: string) => {
  mkdirSync(path.join(dir, name), { recursive: true })
  writeFileSync(path.join(dir, name, 'index.ts'), source)
}
plugin('fetcher', `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({
  name: 'fetcher',
  async handle() {
    const res = await fetch('http://127.0.0.1:9/orders/1')
    return String(res.status)
  },
})
`)
plugin('encoder', `import { definePlugin } from 'wxengine/plugin'
const encoder = new TextEncoder()
export default definePlugin({ name: 'encoder', handle: () => String(encoder.encode('a').length) })
`)
plugin('typo', `import { definePlugin } from 'wxengine/plugin'
export default definePlugin({ name: 'typo', handle: () => String(undefinedThing) })
declare const undefinedThing: string
`)

let h: Harness
before(async () => {
  h = await loadPlugins({ dir, only: ['fetcher', 'encoder', 'typo'] })
})
after(async () => {
  await h.dispose()
  rmSync(project, { recursive: true, force: true })
})

test('fetch in handle: the error says to allow http and use http.request', async () => {
  const e = errorOf(await h.call('fetcher', text('x')))
  assert.equal(e.code, 'PLUGIN_ERROR')
  assert.match(e.reason, /^ReferenceError: fetch is not defined \(at .*index\.ts:5:\d+\): the plugin sandbox has no fetch; allow node's http or https for the plugin \(allow: \['http'\]/)
  // The project's copy of the docs, not a docs/ it does not have.
  assert.ok(e.reason.endsWith(`(${path.join(project, '.wxengine', 'docs', 'plugins.md')}#calling-an-http-api)`), e.reason)
})

test('TextEncoder at the top of the module: the load error says the sandbox has no Node web globals', () => {
  const reason = h.errors.map((e) => e.reason).find((r) => r.includes('encoder'))
  assert.match(reason ?? '', /ReferenceError: TextEncoder is not defined \(at .*\): the plugin sandbox has only what JavaScript itself has, plus timers, console and Buffer, not Node's web globals such as TextEncoder/)
  assert.ok(reason?.endsWith(`(${path.join(project, '.wxengine', 'docs', 'plugins.md')}#sandbox)`), reason)
})

test("a name that is no Node global is the plugin's own mistake: left as V8 says it", async () => {
  assert.match(errorOf(await h.call('typo', text('x'))).reason, /^ReferenceError: undefinedThing is not defined \(at [^)]*\)$/)
})
