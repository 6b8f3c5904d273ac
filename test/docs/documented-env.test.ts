/**
 * Every environment variable the configuration reads (core/config/load-config.ts, and the default account's
 * WECHAT_* from core/config/account-variables.ts' table) is named in
 * docs/configuration.md, where a deploy looks for it: a variable added to the code and not to the page is
 * one nobody finds.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { ACCOUNT_VARIABLES } from '../../core/config/account-variables.ts'

const root = path.resolve(import.meta.dirname, '../..')

test('docs/configuration.md names every environment variable the configuration reads', () => {
  const code = readFileSync(path.join(root, 'core/config/load-config.ts'), 'utf8')
  const read = new Set([...code.matchAll(/\benv\.([A-Z][A-Z0-9_]+)|\(env, '([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1] ?? m[2]!))
  for (const name of Object.values(ACCOUNT_VARIABLES)) read.add(name)
  assert.ok(read.size >= 20, `found only ${read.size}: ${[...read].join(', ')}`)
  const doc = readFileSync(path.join(root, 'docs/configuration.md'), 'utf8')
  assert.deepEqual([...read].filter((name) => !doc.includes(`\`${name}\``)), [])
})
