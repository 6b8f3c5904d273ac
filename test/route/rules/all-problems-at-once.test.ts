/**
 * One load lists every problem of a rules file: a misspelt `users:` group, a missing media file and a name
 * used twice are reported alongside the file's schema errors, each at its file:line:col, not only once those are fixed.
 * A value the schema refused is not reported a second time by these checks.
 */
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { formatRuleErrors, loadRuleSet } from '../../../core/route/rules/index.ts'
import { readRulesOffThread } from '../../../core/route/rules/read-rules-off-thread.ts'
import { createLogger } from '../../../core/log/logger.ts'
import { tempRulesDirs } from '../../support/rules-dir.ts'

const rulesDir = tempRulesDirs('all-problems')
const OPTS = { accounts: ['main'], userGroups: { main: ['admins'] } }

const THREE_PROBLEMS = `rules:
  - name: a
    keywords: [a]
    priority: high
    plugin: p
  - name: b
    keywords: [b]
    users: admin
    plugin: p
  - name: c
    keywords: [c]
    reply: {type: image, file: qr.png}
handlers:
  - type: image
    users: [staff]
    reply: {type: voice, file: hi.amr}
welcome:
  reply: {type: video, file: tour.mp4}
`

function expected(file: string): string {
  return [
    `${file}:4:15: rule "a": priority must be a whole number, got "high"`,
    `${file}:8:12: rule "b": users: no group "admin" in account "main"'s userGroups (did you mean "admins"?) (engine.config.ts; groups: admins)`,
    `${file}:12:32: file "qr.png" does not exist (${join(file, '..', 'qr.png')}; a file is relative to the rules file's folder)`,
    `${file}:15:13: handler #1 (image): users: no group "staff" in account "main"'s userGroups (engine.config.ts; groups: admins)`,
    `${file}:16:32: file "hi.amr" does not exist (${join(file, '..', 'hi.amr')}; a file is relative to the rules file's folder)`,
    `${file}:18:30: file "tour.mp4" does not exist (${join(file, '..', 'tour.mp4')}; a file is relative to the rules file's folder)`,
  ].join('\n')
}

describe('every problem of a file in one load', () => {
  it('groups and media files are checked beside a schema error, each at its line', async () => {
    const dir = await rulesDir({ 'main/a.yaml': THREE_PROBLEMS })
    const loaded = await loadRuleSet(dir, OPTS)
    assert.equal(loaded.ok, false)
    if (!loaded.ok) assert.equal(formatRuleErrors(loaded.errors), expected(join(dir, 'main/a.yaml')))
  })

  it('the same in the parse worker of a reload', async () => {
    const dir = await rulesDir({ 'main/a.yaml': THREE_PROBLEMS })
    const loaded = await loadRuleSet(dir, OPTS, readRulesOffThread(createLogger({ level: 'silent' }), { inThreadMaxBytes: 0 }))
    assert.equal(loaded.ok, false)
    if (!loaded.ok) assert.equal(formatRuleErrors(loaded.errors), expected(join(dir, 'main/a.yaml')))
  })

  it('a value the schema refused is reported once, by the schema', async () => {
    const entries = [
      // a group name that is no identifier: no "no group" error too
      `  - name: a\n    keywords: [a]\n    users: 'the admins'\n    plugin: p`,
      // both mediaId and file: no "does not exist" too
      `  - name: b\n    keywords: [b]\n    reply: {type: image, mediaId: x, file: b.png}`,
      // an extension the platform refuses: not opened
      `  - name: c\n    keywords: [c]\n    reply: {type: image, file: c.webp}`,
      // both plugin and reply: the reply's file not opened
      `  - name: d\n    keywords: [d]\n    plugin: p\n    reply: {type: image, file: d.png}`,
    ]
    const dir = await rulesDir({ 'main/a.yaml': `rules:\n${entries.join('\n')}\n` })
    const loaded = await loadRuleSet(dir, OPTS)
    assert.equal(loaded.ok, false)
    if (loaded.ok) return
    const shown = formatRuleErrors(loaded.errors)
    assert.equal(loaded.errors.length, 4, shown)
    assert.doesNotMatch(shown, /no group|does not exist/)
  })

  it("a login: the configuration refuses is reported beside another file's errors", async () => {
    const vip = "rules:\n  - name: vip\n    keywords: [vip]\n    reply:\n      type: news\n      articles:\n        - {title: VIP, url: 'https://blog.example.com/center', login: base}\n"
    const dir = await rulesDir({ 'main/vip.yaml': vip, 'main/bad.yaml': 'rules:\n  - name: b\n    keywords: [b]\n    prority: 1\n    plugin: p\n' })
    const loginLinks = { publicUrl: 'https://wx.example.com', accounts: [{ id: 'main', pageDomains: ['vip.example.com'], hasAppSecret: true }] }
    const loaded = await loadRuleSet(dir, { ...OPTS, loginLinks })
    assert.equal(loaded.ok, false)
    if (loaded.ok) return
    const shown = formatRuleErrors(loaded.errors)
    assert.deepEqual(loaded.errors.map((e) => [e.file, e.line]), [[join(dir, 'main/bad.yaml'), 4], [join(dir, 'main/vip.yaml'), 7]], shown)
    assert.match(loaded.errors[1].message, /^rule "vip": login \(for account "main"\): /)
  })

  it('a name used twice is reported beside the schema errors, in the same file and across files', async () => {
    const bad = 'rules:\n  - name: a\n    keywords: [a]\n    prority: 1\n    plugin: p\n  - name: a\n    keywords: [b]\n    plugin: p\nhandlers:\n  - name: shared\n    type: image\n    plugin: p\n'
    const dir = await rulesDir({ 'main/a.yaml': 'rules:\n  - name: shared\n    keywords: [s]\n    plugin: p\n', 'main/b.yaml': bad })
    for (const read of [undefined, readRulesOffThread(createLogger({ level: 'silent' }), { inThreadMaxBytes: 0 })]) {
      const loaded = await loadRuleSet(dir, OPTS, read)
      assert.equal(loaded.ok, false)
      if (loaded.ok) return
      const [a, b] = [join(dir, 'main/a.yaml'), join(dir, 'main/b.yaml')]
      assert.equal(
        formatRuleErrors(loaded.errors),
        [
          `${b}:4:5: rule "a": unknown key "prority" (did you mean "priority"?); allowed here: name, keywords, foldCase, foldWidth, priority, enabled, users, plugin, args, reply`,
          `${b}:6:5: duplicate name "a": also defined at ${b}:2:5`,
          `${b}:10:5: duplicate name "shared": also defined at ${a}:2:5`,
        ].join('\n'),
      )
    }
  })

  it('a name whose own value is refused is not compared; an account: in error still compares the file with itself', async () => {
    const dir = await rulesDir({
      'a.yaml': 'account: 42\nrules:\n  - name: x\n    keywords: [x]\n    plugin: p\n  - name: x\n    keywords: [y]\n    plugin: p\n',
      'b.yaml': 'account: other\nrules:\n  - name: x\n    keywords: [x]\n    plugin: p\n  - name: ""\n    keywords: [y]\n    plugin: p\n  - name: ""\n    keywords: [z]\n    plugin: p\n',
    })
    const loaded = await loadRuleSet(dir, OPTS)
    assert.equal(loaded.ok, false)
    if (loaded.ok) return
    const shown = formatRuleErrors(loaded.errors)
    // a.yaml: account: refused, then x twice; b.yaml: two empty names, each refused once, and no duplicate
    // of "x" with a.yaml, whose account is unknown.
    assert.deepEqual(loaded.errors.map((e) => [e.file, e.line]).sort(), [[join(dir, 'a.yaml'), 1], [join(dir, 'a.yaml'), 6], [join(dir, 'b.yaml'), 6], [join(dir, 'b.yaml'), 9]], shown)
    assert.match(shown, /a\.yaml:6:5: duplicate name "x": also defined at .*a\.yaml:3:5$/m)
  })

  it("an account: naming another account than the file's folder is reported beside the schema errors, the rest still checked", async () => {
    const text = 'account: shop\nrules:\n  - name: a\n    keywords: [a]\n    prority: 1\n    plugin: p\n  - name: a\n    keywords: [b]\n    users: admin\n    plugin: p\n'
    const dir = await rulesDir({ 'main/a.yaml': text, 'main/b.yaml': text.replace('    prority: 1\n', '') })
    const loaded = await loadRuleSet(dir, OPTS)
    assert.equal(loaded.ok, false)
    if (loaded.ok) return
    const [a, b] = [join(dir, 'main/a.yaml'), join(dir, 'main/b.yaml')]
    const wrong = `this file is in the folder of account "main" but says account: shop; remove the key or move the file`
    const noGroup = `rule "a": users: no group "admin" in account "main"'s userGroups (did you mean "admins"?) (engine.config.ts; groups: admins)`
    assert.equal(
      formatRuleErrors(loaded.errors),
      [
        `${a}:1:10: ${wrong}`,
        `${a}:5:5: rule "a": unknown key "prority" (did you mean "priority"?); allowed here: name, keywords, foldCase, foldWidth, priority, enabled, users, plugin, args, reply`,
        `${a}:7:5: duplicate name "a": also defined at ${a}:3:5`,
        `${a}:9:12: ${noGroup}`,
        // Valid but for its account: its names and groups are checked too, under its folder's account.
        `${b}:1:10: ${wrong}`,
        `${b}:3:5: duplicate name "a": also defined at ${a}:3:5`,
        `${b}:6:5: duplicate name "a": also defined at ${a}:3:5`,
        `${b}:8:12: ${noGroup}`,
      ].join('\n'),
    )
  })

  it('an account: in error leaves the groups unchecked (whose groups is unknown), the files still checked', async () => {
    const dir = await rulesDir({ 'a.yaml': 'account: 42\nrules:\n  - name: b\n    keywords: [b]\n    users: admin\n    reply: {type: image, file: b.png}\n' })
    const loaded = await loadRuleSet(dir, OPTS)
    assert.equal(loaded.ok, false)
    if (loaded.ok) return
    assert.deepEqual(loaded.errors.map((e) => e.line), [1, 6], formatRuleErrors(loaded.errors))
    assert.match(loaded.errors[1].message, /^file "b\.png" does not exist/)
  })
})
