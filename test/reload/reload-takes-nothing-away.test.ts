/**
 * A reload does not take away what the serving set was loaded from (core/reload/load-generation.ts
 * `running`): the rules folder, the plugins folder, or a plugin its rules still name, gone (moved away for a
 * moment by a checkout or an editor, or deleted) refuses the reload and the last good set answers on.
 * Each was taken (a hot-reload review): the rules folder moved away made an empty set that answered
 * everybody `success` until it came back, and a plugin folder gone sent its rule's messages to the default reply.
 */
import assert from 'node:assert/strict'
import { cpSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { push } from '../../core/testkit/wechat-simulator.ts'
import { REPO } from '../cli/cli-harness.ts'
import { startHarness, type Harness } from '../support/engine-harness.ts'

const RULES = `rules:
  - name: echo
    keywords: [{ regex: "^echo (?<text>.+)$" }]
    plugin: echo
  - name: hello
    keywords: [hello]
    reply: { type: text, content: hi there }
default:
  reply: { type: text, content: fell through }
`

async function withEcho(use: (h: Harness) => Promise<void>): Promise<void> {
  const h = await startHarness({ rules: { 'r.yaml': RULES } })
  cpSync(path.join(REPO, 'plugins/echo'), path.join(h.dir, 'plugins', 'echo'), { recursive: true })
  try {
    assert.equal(await h.runtime.reload(), true, 'the echo plugin loaded')
    assert.equal((await h.post('plain', push.text('u1', 'echo one'))).reply?.Content, 'one')
    await use(h)
  } finally {
    await h.close()
  }
}

const refusal = (h: Harness) => h.lines.filter((l) => String(l.msg).startsWith('reload refused')).at(-1)

test('the rules folder gone: refused, the last good rules answer; back, the next reload takes it', async () => {
  await withEcho(async (h) => {
    const rules = path.join(h.dir, 'rules')
    renameSync(rules, `${rules}.away`)
    assert.equal(await h.runtime.reload(), false)
    assert.equal(refusal(h)?.code, 'RULE_INVALID')
    assert.match(String((refusal(h)?.problems as string[])[0]), /rules: the rules folder the running set was loaded from is gone \(moved or deleted; a checkout in progress\?\)/)
    assert.equal((await h.post('plain', push.text('u1', 'hello'))).reply?.Content, 'hi there')
    renameSync(`${rules}.away`, rules)
    assert.equal(await h.runtime.reload(), true)
    assert.equal((await h.post('plain', push.text('u1', 'hello'))).reply?.Content, 'hi there')
  })
})

test('the plugins folder gone, or one plugin its rules name: refused, the plugin answers on', async () => {
  await withEcho(async (h) => {
    const plugins = path.join(h.dir, 'plugins')
    renameSync(plugins, `${plugins}.away`)
    assert.equal(await h.runtime.reload(), false)
    assert.equal(refusal(h)?.code, 'PLUGIN_LOAD')
    assert.match(String((refusal(h)?.problems as string[])[0]), /plugins: the plugins folder the running set was loaded from is gone/)
    assert.equal((await h.post('plain', push.text('u1', 'echo two'))).reply?.Content, 'two')
    renameSync(`${plugins}.away`, plugins)

    rmSync(path.join(plugins, 'echo'), { recursive: true })
    assert.equal(await h.runtime.reload(), false)
    assert.equal(refusal(h)?.code, 'PLUGIN_LOAD')
    assert.match(String((refusal(h)?.problems as string[])[0]), /^rules refer to plugin "echo" \(rule "echo" at .*r\.yaml:2\), which served until now and is gone from .*plugins: put it back, or remove the rules that name it too/)
    assert.equal((await h.post('plain', push.text('u1', 'echo three'))).reply?.Content, 'three')

    // Its rule removed too: the reload takes both.
    writeFileSync(path.join(h.dir, 'rules', 'r.yaml'), RULES.replace(/ {2}- name: echo\n.*\n.*\n/, ''))
    assert.equal(await h.runtime.reload(), true)
    assert.equal((await h.post('plain', push.text('u1', 'echo four'))).reply?.Content, 'fell through')
  })
})

test('a start without the rules folder, reloaded still without it, is no refusal: nothing is taken away', async () => {
  const h = await startHarness({ rules: {} })
  try {
    rmSync(path.join(h.dir, 'rules'), { recursive: true })
    assert.equal(await h.runtime.reload(), false, 'the first reload without it: refused, the folder served')
    // An engine started with no folder at all (a mistyped RULES_DIR) reloads freely: there was nothing to keep.
    const none = await startHarness({ config: { rulesDir: path.join(h.dir, 'no-such-rules') } })
    try {
      assert.equal(await none.runtime.reload(), true)
    } finally {
      await none.close()
    }
  } finally {
    await h.close()
  }
})
