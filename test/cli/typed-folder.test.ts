/**
 * `npm run wxengine -- <command>` typed in a subfolder: npm runs the script in the package's folder and keeps
 * the typed one in INIT_CWD. Paths typed are taken from where they were typed, the project stays the package
 * (core/cli/typed-folder.ts). The environment is npm's, set here as npm sets it for a script.
 */
import assert from 'node:assert/strict'
import { mkdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, describe, it } from 'node:test'
import { makeProject, type Project } from './cli-harness.ts'

const npmRun = (script: string, typedIn: string) => ({ npm_lifecycle_event: script, npm_package_name: 'wxengine', INIT_CWD: typedIn })

describe('npm run wxengine, typed in a subfolder', () => {
  let project: Project
  let sub: string
  before(() => {
    project = makeProject()
    sub = path.join(project.dir, 'drafts')
    mkdirSync(path.join(sub, 'mine'), { recursive: true })
    writeFileSync(path.join(sub, 'mine', 'a.yaml'), 'rules:\n  - name: drafted\n    keywords: [draft, sketch]\n    reply: { type: text, content: drafted }\n')
  })
  after(() => project.remove())

  it('a relative path is taken from the folder it was typed in; the project is still the package', async () => {
    const r = await project.run(['rules', 'check', 'mine'], { cwd: project.dir, env: npmRun('wxengine', sub) })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^mine: ok, 1 text rule \(2 keywords\)/m)
    // The project's own rules, by its config: the package npm found, not the typed folder.
    const own = await project.run(['rules', 'check'], { cwd: project.dir, env: npmRun('wxengine', sub) })
    assert.equal(own.code, 0, own.stderr)
    assert.match(own.stdout, /rules: ok, 2 text rules \(2 keywords\), 4 type handlers, plugins used: echo$/m)
  })

  it('another script is left where npm runs it (its own paths are relative to package.json)', async () => {
    const r = await project.run(['rules', 'check', 'mine'], { cwd: project.dir, env: npmRun('check-drafts', sub) })
    assert.equal(r.code, 2)
    assert.match(r.stderr, /wxengine rules check: mine does not exist/)
  })

  it('without npm, the working directory is where it was typed', async () => {
    const r = await project.run(['-C', project.dir, 'rules', 'check', 'mine'], { cwd: sub })
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /^mine: ok, 1 text rule/m)
  })
})
