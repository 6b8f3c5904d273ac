/**
 * `wxengine dev` keeps reloading after rules/ (or plugins/) is moved away and back (git stash, a checkout
 * of a branch without them, mv to a backup). chokidar stopped watching the removed folder: the reload on
 * removal swapped in an empty rule set and later edits were never seen, until a restart.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { it } from 'node:test'
import { createMemoryLogger } from '../../core/log/logger.ts'
import type { PluginSet } from '../../core/plugin/plugin-host-types.ts'
import { createGenerations } from '../../core/reload/generations.ts'
import type { LoadedParts } from '../../core/reload/load-generation.ts'
import { watchSources } from '../../core/reload/watch-sources.ts'
import type { RuleSet } from '../../core/route/rule-types.ts'

const parts = (): LoadedParts => ({
  ok: true,
  rules: { size: { textRules: 0, keywords: 0, typeHandlers: 0 } } as unknown as RuleSet,
  plugins: { names: () => [], dispose: async () => undefined, retire: () => undefined } as unknown as PluginSet,
  userGroups: undefined,
  slowestPluginMs: 30_000,
  warnings: [],
  notes: [],
  sources: { rulesDir: true, pluginsDir: true, plugins: [] },
})
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** A temporary project folder with rules/a.yaml in it. */
function rulesProject(): { root: string; dir: string } {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-restored-'))
  const dir = path.join(root, 'rules')
  mkdirSync(dir)
  writeFileSync(path.join(dir, 'a.yaml'), 'rules: []\n')
  return { root, dir }
}

it('keeps watching rules/ after it is moved away and back', async () => {
  const { root, dir } = rulesProject()
  let loads = 0
  const watcher = watchSources({ dirs: [dir], generations: createGenerations(parts() as never), debounceMs: 20,
    log: createMemoryLogger('silent').logger, load: async () => (loads++, parts()) })
  // Each step waits for the reload it causes (fixed pauses of 500 ms did not always let chokidar see the
  // folder come back on a loaded machine, and the edit made then was missed), then lets it settle so that a
  // late event of one step is not taken for the next step's reload.
  const reloadsAfter = async (before: number, what: string) => {
    for (const until = Date.now() + 5_000; loads === before && Date.now() < until; ) await sleep(50)
    assert.ok(loads > before, `${what} must reload (loads stayed at ${loads})`)
    await sleep(300)
  }
  try {
    await watcher.ready
    let before = loads
    renameSync(dir, path.join(root, 'rules.away'))
    await reloadsAfter(before, 'rules/ moved away')
    before = loads
    renameSync(path.join(root, 'rules.away'), dir)
    await reloadsAfter(before, 'rules/ moved back')
    before = loads
    writeFileSync(path.join(dir, 'a.yaml'), 'rules: []\n# edited\n')
    await reloadsAfter(before, 'an edit after the folder came back')
  } finally {
    await watcher.close()
    rmSync(root, { recursive: true, force: true })
  }
})

it('keeps watching a media file outside rules/ after it is removed and made again (rm then cp, a checkout)', async () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'wxengine-restored-'))
  const dir = path.join(root, 'rules')
  mkdirSync(dir)
  mkdirSync(path.join(root, 'assets'))
  const logo = path.join(root, 'assets', 'logo.png')
  writeFileSync(logo, 'one')
  let loads = 0
  const watcher = watchSources({ dirs: [dir], files: [logo], generations: createGenerations(parts() as never), debounceMs: 20,
    log: createMemoryLogger('silent').logger, load: async () => (loads++, parts()) })
  const reloadsAfter = async (before: number, what: string) => {
    for (const until = Date.now() + 5_000; loads === before && Date.now() < until; ) await sleep(50)
    assert.ok(loads > before, `${what} must reload (loads stayed at ${loads})`)
  }
  try {
    await watcher.ready
    let before = loads
    rmSync(logo)
    await reloadsAfter(before, 'removing the file')
    await sleep(300)
    before = loads
    writeFileSync(logo, 'two')
    await reloadsAfter(before, 'the file made again')
    await sleep(300)
    before = loads
    writeFileSync(logo, 'three')
    await reloadsAfter(before, 'an edit after it came back')
  } finally {
    await watcher.close()
    rmSync(root, { recursive: true, force: true })
  }
})

// A project without plugins/ (rules only) is watched with that folder missing. chokidar, given a folder that
// does not exist, watches its parent for it: its `ready` then came before rules/ was watched (the first edit
// after start went unseen), and rules/ moved away and back was never seen again (both found by an operator's
// review, editing a project while `wxengine dev` served it).
it('with plugins/ missing: an edit right after start reloads, and so does one after rules/ is moved away and back', async () => {
  const { root, dir } = rulesProject()
  let loads = 0
  const watcher = watchSources({ dirs: [dir, path.join(root, 'plugins')], generations: createGenerations(parts() as never), debounceMs: 20,
    log: createMemoryLogger('silent').logger, load: async () => (loads++, parts()) })
  const reloadsAfter = async (before: number, what: string) => {
    for (const until = Date.now() + 5_000; loads === before && Date.now() < until; ) await sleep(50)
    assert.ok(loads > before, `${what} must reload (loads stayed at ${loads})`)
    await sleep(300)
  }
  try {
    await watcher.ready
    let before = loads
    writeFileSync(path.join(dir, 'a.yaml'), 'rules: []\n# one\n')
    await reloadsAfter(before, 'the first edit after start')
    before = loads
    renameSync(dir, path.join(root, 'rules.away'))
    await reloadsAfter(before, 'rules/ moved away')
    before = loads
    renameSync(path.join(root, 'rules.away'), dir)
    await reloadsAfter(before, 'rules/ moved back')
    before = loads
    writeFileSync(path.join(dir, 'a.yaml'), 'rules: []\n# two\n')
    await reloadsAfter(before, 'an edit after rules/ came back')
    before = loads
    mkdirSync(path.join(root, 'plugins'))
    await reloadsAfter(before, 'plugins/ made')
  } finally {
    await watcher.close()
    rmSync(root, { recursive: true, force: true })
  }
})
