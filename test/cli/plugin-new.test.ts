import assert from 'node:assert/strict'
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'
import { makeProject, REPO, runCommand, type Project } from './cli-harness.ts'

let project: Project
// From a checkout no `wxengine` is on the PATH: the printed commands name the checkout's launcher.
const launcher = path.join(REPO, 'core', 'cli', 'wxengine.mjs')
const wx = `node ${launcher}`

before(() => {
  // A project on its own, as next to the single binary: no node_modules, no core/ to import from.
  project = makeProject()
})
after(() => project.remove())

test('creates a plugin, its rule and a test; the test passes as generated', async () => {
  const r = await project.run(['plugin', 'new', 'weather'])
  assert.equal(r.code, 0, r.stderr)
  const created = ['plugins/weather/index.ts', 'plugins/weather/plugin.json', 'rules/weather.yaml', 'test/plugins/weather.test.ts']
  for (const f of created) {
    assert.match(r.stdout, new RegExp(`^created ${f.replace(/[./]/g, '\\$&')}$`, 'm'))
    assert.doesNotMatch(readFileSync(path.join(project.dir, f), 'utf8'), /__PLUGIN_(NAME|ROUTED_BY)__/, f)
  }
  assert.match(readFileSync(path.join(project.dir, 'plugins/weather/index.ts'), 'utf8'), /^ \* The weather plugin\. rules\/weather\.yaml sends it "weather <anything>";$/m)
  assert.equal(JSON.parse(readFileSync(path.join(project.dir, 'plugins/weather/plugin.json'), 'utf8')).name, 'weather')

  const check = await project.run(['rules', 'check'])
  assert.equal(check.code, 0, check.stdout + check.stderr)
  assert.match(check.stdout, /plugins used: echo, weather/)
  assert.doesNotMatch(check.stdout, /warning/)

  // Printed commands that work as printed, from the project's folder and from elsewhere.
  const lines = r.stdout.split('\n')
  assert.ok(lines.includes(`Try it:  ${wx} send "weather hello" --local`), r.stdout)
  assert.ok(lines.includes(`Test it: ${wx} test test/plugins/weather.test.ts`), r.stdout)

  const generated = await project.run(['test', 'test/plugins/weather.test.ts'])
  assert.equal(generated.code, 0, generated.stdout + generated.stderr)
  assert.match(generated.stdout, /^(#|ℹ) pass 4$/m)
  assert.match(generated.stdout, /^(#|ℹ) fail 0$/m)
  // With no path: test/plugins/ of the project, which holds only this one.
  const all = await project.run(['test'])
  assert.equal(all.code, 0, all.stdout + all.stderr)
  assert.match(all.stdout, /^(#|ℹ) pass 4$/m)

  const sent = await project.run(['send', 'weather tomorrow', '--openid', 'u1', '--local'])
  assert.equal(sent.code, 0, sent.stderr)
  assert.equal(sent.stdout, 'text reply\n  Content: weather: tomorrow\n')
})

test('from another folder, the printed commands name the project with -C', async () => {
  const r = await project.run(['-C', project.dir, 'plugin', 'new', 'forecast'], { cwd: path.dirname(project.dir) })
  assert.equal(r.code, 0, r.stderr)
  const name = path.basename(project.dir)
  const lines = r.stdout.split('\n')
  assert.ok(lines.includes(`Try it:  ${wx} -C ${name} send "forecast hello" --local`), r.stdout)
  assert.ok(lines.includes(`Test it: ${wx} test ${name}/test/plugins/forecast.test.ts`), r.stdout)
  // Run as printed (the launcher itself, as a shell would), from where they were printed.
  const where = { cwd: path.dirname(project.dir), env: project.env }
  const sent = await runCommand(process.execPath, [launcher, '-C', name, 'send', 'forecast hello', '--local'], where)
  assert.equal(sent.stdout, 'text reply\n  Content: forecast: hello\n', sent.stderr)
  const tested = await runCommand(process.execPath, [launcher, 'test', `${name}/test/plugins/forecast.test.ts`], where)
  assert.equal(tested.code, 0, tested.stdout + tested.stderr)
  assert.match(tested.stdout, /^(#|ℹ) pass 4$/m)
  for (const f of ['plugins/forecast', 'rules/forecast.yaml', 'test/plugins/forecast.test.ts']) rmSync(path.join(project.dir, f), { recursive: true })
})

test('launched by npx (as the README writes it), the printed commands say npx wxengine where they run in the folder npx ran in', async () => {
  const npx = { env: { npm_command: 'exec' } }
  const here = await project.run(['plugin', 'new', 'tides'], npx)
  assert.equal(here.code, 0, here.stderr)
  assert.ok(here.stdout.split('\n').includes('Try it:  npx wxengine send "tides hello" --local'), here.stdout)
  assert.ok(here.stdout.split('\n').includes('Test it: npx wxengine test test/plugins/tides.test.ts'), here.stdout)
  const name = path.basename(project.dir)
  const elsewhere = await project.run(['-C', project.dir, 'plugin', 'new', 'moon'], { ...npx, cwd: path.dirname(project.dir) })
  assert.equal(elsewhere.code, 0, elsewhere.stderr)
  assert.ok(elsewhere.stdout.split('\n').includes(`Try it:  npx wxengine -C ${name} send "moon hello" --local`), elsewhere.stdout)
  for (const n of ['tides', 'moon']) for (const f of [`plugins/${n}`, `rules/${n}.yaml`, `test/plugins/${n}.test.ts`]) rmSync(path.join(project.dir, f), { recursive: true })
})

test('refuses a name that exists, and leaves its files alone', async () => {
  const before = readFileSync(path.join(project.dir, 'plugins/echo/index.ts'), 'utf8')
  const r = await project.run(['plugin', 'new', 'echo'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /a plugin named "echo" exists already \(plugins\/echo\); edit it, or choose another name/)
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

test('a rule name clash: refused before anything is written, naming the rule and what to do', async () => {
  // The fixture has a rule named "hello"; a plugin "hello" would add a second one.
  const r = await project.run(['plugin', 'new', 'hello'])
  assert.equal(r.code, 1)
  assert.equal(r.stderr, 'wxengine plugin new: a rule named "hello" exists already (rules/main.yaml:6), and rules/hello.yaml would add another of that name: rename that rule, or choose another plugin name; nothing was created\n')
  assert.equal(existsSync(path.join(project.dir, 'plugins/hello')), false)
  assert.equal(existsSync(path.join(project.dir, 'rules/hello.yaml')), false)
  assert.equal(existsSync(path.join(project.dir, 'test/plugins/hello.test.ts')), false)
})

test('a folder in plugins/ that is not a plugin is named as such, and left alone', async () => {
  mkdirSync(path.join(project.dir, 'plugins/draft'))
  try {
    const r = await project.run(['plugin', 'new', 'draft'])
    assert.equal(r.code, 2)
    assert.equal(r.stderr, 'wxengine plugin new: plugins/draft exists already and holds no index.ts; remove it, or choose another name (nothing is overwritten)\n')
    assert.deepEqual(readdirSync(path.join(project.dir, 'plugins/draft')), [])
    assert.equal(existsSync(path.join(project.dir, 'rules/draft.yaml')), false)
  } finally {
    rmSync(path.join(project.dir, 'plugins/draft'), { recursive: true })
  }
})

test('a plugin the rules name already (as `rules check` suggests): created without a rule file of its own, which says so (it was refused: rules/report.yaml "exists already", or a duplicate rule name)', async () => {
  const ruleFile = 'rules:\n  - name: report\n    keywords: [report]\n    plugin: report\n'
  writeFileSync(path.join(project.dir, 'rules/report.yaml'), ruleFile)
  const suggested = await project.run(['rules', 'check'])
  assert.match(suggested.stdout, /create it with: wxengine plugin new report/)
  try {
    const r = await project.run(['plugin', 'new', 'report'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.split('\n').filter((l) => l.startsWith('created')).join('\n'), 'created plugins/report/index.ts\ncreated plugins/report/plugin.json\ncreated test/plugins/report.test.ts')
    assert.match(r.stderr, /^wxengine plugin new: the rules send messages to "report" already \(rule "report" at rules\/report\.yaml:2\), so no rules\/report\.yaml was written; the plugin and its test are written for that file's rule/)
    assert.equal(readFileSync(path.join(project.dir, 'rules/report.yaml'), 'utf8'), ruleFile)
    // Its header names the rule that routes to it, not the rules/report.yaml it did not write.
    const header = readFileSync(path.join(project.dir, 'plugins/report/index.ts'), 'utf8').split('\n')[1]
    assert.equal(header, ' * The report plugin. rule "report" at rules/report.yaml:2 sends it messages; the code below was written for "report <anything>": change it to fit;')
    const check = await project.run(['rules', 'check'])
    assert.equal(check.code, 0, check.stdout + check.stderr)
    assert.doesNotMatch(check.stdout, /warning/)
    const sent = await project.run(['send', 'report', '--openid', 'u1', '--local'])
    assert.equal(sent.stdout, 'text reply\n  Content: Hello from report! Send "report <anything>".\n', sent.stderr)
  } finally {
    for (const f of ['plugins/report', 'rules/report.yaml', 'test/plugins/report.test.ts']) rmSync(path.join(project.dir, f), { recursive: true, force: true })
  }
})

test('a file that cannot be written: exit 1 naming it, and nothing is left behind (it was a stack trace, and a half-made plugin that a second try called "exists already")', async () => {
  // test/ is a file here, so test/plugins/<name>.test.ts, written last, cannot be: as a folder of another user would refuse it.
  const own = makeProject()
  try {
    writeFileSync(path.join(own.dir, 'test'), 'not a folder\n')
    const r = await own.run(['plugin', 'new', 'weather'])
    assert.equal(r.code, 1, r.stdout + r.stderr)
    assert.match(r.stderr, /^wxengine plugin new: cannot write test\/plugins\/weather\.test\.ts \(ENOTDIR\b.*\); nothing was created\n$/)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
    assert.equal(r.stdout, '')
    assert.equal(existsSync(path.join(own.dir, 'plugins/weather')), false)
    assert.equal(existsSync(path.join(own.dir, 'rules/weather.yaml')), false)

    // Once it can be, the same command makes the plugin.
    rmSync(path.join(own.dir, 'test'))
    const again = await own.run(['plugin', 'new', 'weather'])
    assert.equal(again.code, 0, again.stderr)
  } finally {
    own.remove()
  }
})
