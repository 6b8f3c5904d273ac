import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, symlinkSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { makeProject, REPO, runCommand, type Project } from './cli-harness.ts'

let project: Project

before(() => {
  project = makeProject()
  // The generated test imports the test kit from core/, as plugin tests in this repository do.
  symlinkSync(path.join(REPO, 'core'), path.join(project.dir, 'core'))
  symlinkSync(path.join(REPO, 'node_modules'), path.join(project.dir, 'node_modules'))
})
after(() => project.remove())

test('creates a plugin, its rule and a test; the test passes as generated', async () => {
  const r = await project.run(['plugin', 'new', 'weather'])
  assert.equal(r.code, 0, r.stderr)
  const created = ['plugins/weather/index.ts', 'plugins/weather/plugin.json', 'rules/weather.yaml', 'test/plugins/weather.test.ts']
  for (const f of created) {
    assert.match(r.stdout, new RegExp(`^created ${f.replace(/[./]/g, '\\$&')}$`, 'm'))
    assert.doesNotMatch(readFileSync(path.join(project.dir, f), 'utf8'), /__PLUGIN_NAME__/, f)
  }
  assert.equal(JSON.parse(readFileSync(path.join(project.dir, 'plugins/weather/plugin.json'), 'utf8')).name, 'weather')

  const check = await project.run(['rules', 'check'])
  assert.equal(check.code, 0, check.stdout + check.stderr)
  assert.match(check.stdout, /plugins used: echo, weather/)
  assert.doesNotMatch(check.stdout, /warning/)

  // TAP asked for by name: node 23+ prints its spec format even into a pipe, where 20 and 22 print TAP.
  const generated = await runCommand(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', 'test/plugins/weather.test.ts'], {
    cwd: project.dir,
    env: project.env,
  })
  assert.equal(generated.code, 0, generated.stdout + generated.stderr)
  assert.match(generated.stdout, /^# pass 3$/m)
  assert.match(generated.stdout, /^# fail 0$/m)

  const sent = await project.run(['send', 'weather tomorrow', '--openid', 'u1', '--local'])
  assert.equal(sent.code, 0, sent.stderr)
  assert.equal(sent.stdout, 'text reply\n  Content: weather: tomorrow\n')
})

test('refuses a name that exists, and leaves its files alone', async () => {
  const before = readFileSync(path.join(project.dir, 'plugins/echo/index.ts'), 'utf8')
  const r = await project.run(['plugin', 'new', 'echo'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /a plugin named "echo" exists already \(plugins\/echo\); choose another name/)
  assert.equal(readFileSync(path.join(project.dir, 'plugins/echo/index.ts'), 'utf8'), before)
  assert.equal(existsSync(path.join(project.dir, 'rules/echo.yaml')), false)
})

test('refuses invalid names', async () => {
  for (const name of ['Weather', 'my_plugin', 'x-', 'a--b', '../evil', '9lives']) {
    const r = await project.run(['plugin', 'new', name])
    assert.equal(r.code, 2, name)
    assert.match(r.stderr, /is not a valid plugin name: use lowercase letters, digits and single hyphens/, name)
  }
  assert.deepEqual(readdirSync(path.join(project.dir, 'plugins')).sort(), ['echo', 'weather'])
})

test('a rule name clash undoes everything', async () => {
  // The fixture has a rule named "hello"; a plugin "hello" would add a second one.
  const r = await project.run(['plugin', 'new', 'hello'])
  assert.equal(r.code, 1)
  assert.match(r.stderr, /duplicate name "hello"/)
  assert.match(r.stderr, /nothing was created/)
  assert.equal(existsSync(path.join(project.dir, 'plugins/hello')), false)
  assert.equal(existsSync(path.join(project.dir, 'rules/hello.yaml')), false)
  assert.equal(existsSync(path.join(project.dir, 'test/plugins/hello.test.ts')), false)
})
