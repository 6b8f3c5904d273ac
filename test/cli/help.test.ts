import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { makeProject, REPO, runCommand, type Project } from './cli-harness.ts'

let project: Project
before(() => {
  project = makeProject()
})
after(() => project.remove())

const COMMANDS: [string[], RegExp][] = [
  [['start'], /serve WeChat requests \(production\)/],
  [['dev'], /hot reload/],
  [['send'], /play a WeChat user[\s\S]*get placeholders, named on stderr[\s\S]*Examples:/],
  [['rules', 'check'], /print file:line:col errors \(exit 1\)/],
  [['qrcode', 'create'], /POST \/cgi-bin\/qrcode\/create[\s\S]*--expire <duration>[\s\S]*EventKey qrscene_<scene>/],
  [['qrcode', 'image'], /fetch the image of a code made earlier from its ticket[\s\S]*-o, --out <file>/],
  [['web', 'link'], /print the login link of one of the account's pages[\s\S]*--scope <scope>[\s\S]*publicUrl \(PUBLIC_URL\)/],
  [['mass', 'send'], /message\/mass\/sendall[\s\S]*--client-msg-id <id>[\s\S]*--yes[\s\S]*already sent as msg_id N/],
  [['mass', 'preview'], /message\/mass\/preview[\s\S]*--to-wxname <wxid>/],
  [['mass', 'results'], /MASSSENDJOBFINISH/],
  [['init'], /make a folder a wxengine project[\s\S]*an example\s+menu[\s\S]*\.wxengine\/types[\s\S]*menus\/default\.yaml/],
  [['plugin', 'new'], /create plugins\/<name>\//],
  [['test'], /run the project's plugin tests[\s\S]*'wxengine\/testkit'/],
  [['log'], /--since <when>/],
  [['stats'], /how often each rule and keyword answered/],
  [['followers'], /how many followers each QR code \(scene\) brought[\s\S]*per DATA_DIR/],
  [['storage'], /shared:<area>[\s\S]*--user <openid>[\s\S]*beside a running engine/],
  [['storage', 'set'], /set a key to a JSON value[\s\S]*--ttl <seconds>/],
  [['session'], /conversation locked to a plugin[\s\S]*beside a running engine/],
  [['session', 'end'], /routed\s+afresh[\s\S]*openid  +the user's OpenID[\s\S]*--account <id>[\s\S]*--plugin <name>/],
  [['build'], /single executable/],
]

test('every command has --help, exit 0', async () => {
  const top = await project.run(['--help'])
  assert.equal(top.code, 0)
  for (const name of ['start', 'dev', 'send', 'rules', 'menu', 'qrcode', 'web', 'mass', 'init', 'plugin', 'test', 'log', 'stats', 'followers', 'storage', 'session', 'build']) assert.match(top.stdout, new RegExp(`^  ${name}\\b`, 'm'))
  assert.match(top.stdout, /^ {2}-V, --version +print the version of wxengine and of node$/m)
  const version = await project.run(['--version'])
  assert.equal(version.code, 0)
  assert.equal(version.stdout, `${JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version} (node ${process.version})\n`)
  for (const [command, text] of COMMANDS) {
    const r = await project.run([...command, '--help'])
    assert.equal(r.code, 0, command.join(' '))
    assert.match(r.stdout, new RegExp(`^Usage: wxengine ${command.join(' ')}\\b`), command.join(' '))
    assert.match(r.stdout, text, command.join(' '))
  }
})

test('an unknown command or option is a usage error: exit 2 with a pointer to --help', async () => {
  for (const args of [['frobnicate'], ['log', '--verbose'], ['plugin', 'new']]) {
    const r = await project.run(args)
    assert.equal(r.code, 2, args.join(' '))
    assert.match(r.stderr, /^error: /m, args.join(' '))
    assert.match(r.stderr, /\(run with --help for usage\)/, args.join(' '))
  }
})

test('run outside a project: exit 2, saying there is no engine.config.ts there and how to point at one', async () => {
  const nowhere = `${project.dir}-nonexistent`
  const r = await project.run(['-C', nowhere, 'rules', 'check'])
  assert.equal(r.code, 2)
  assert.match(r.stderr, /There is no engine\.config\.ts in .*-nonexistent \(the folder does not exist\): run this in the project's folder, or point at it with -C <dir>/)
  const inProject = await project.run(['rules', 'check'], { env: { WECHAT_TOKEN: 'x' } })
  assert.equal(inProject.code, 2, 'a bad setting in a real project')
  assert.match(inProject.stderr, /Fix the setting in engine\.config\.ts/)
})

test("run in a project's subfolder: the project above is named first, before what the environment alone lacks (a newcomer's review)", async () => {
  // The reason ("accounts: needs at least one account") came first, and sent the newcomer looking for a setting.
  const r = await project.run(['rules', 'check'], { cwd: path.join(project.dir, 'plugins') })
  assert.equal(r.code, 2)
  const lines = r.stderr.split('\n')
  assert.equal(lines[0], `wxengine: There is no engine.config.ts in ${path.join(project.dir, 'plugins')}: the project is ${project.dir}: run this there, or point at it with -C ${project.dir}; or set WECHAT_TOKEN and WECHAT_APPID.`)
  assert.equal(lines[1], 'With the environment alone: invalid configuration:')
  assert.match(r.stderr, /accounts: needs at least one account/)
  // The start says it the same way.
  const start = await project.run(['start'], { cwd: path.join(project.dir, 'plugins') })
  assert.equal(start.code, 2)
  assert.equal(start.stderr.split('\n')[0], lines[0])
})

test('npm run build:binary with an unknown option: one line and exit 2, not a stack (an operator review)', async () => {
  const r = await runCommand(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts/build-binary.ts'), '--bogus'], { cwd: REPO, env: { PATH: process.env.PATH } })
  assert.equal(r.code, 2)
  assert.equal(r.stderr, "build:binary: Unknown option '--bogus'\nusage: npm run build:binary -- [--out <file>] [--strip]\n")
  // The usage as written works: one `--`, both options after it (the old usage wrote a `--` before each,
  // and the second one made --strip an argument, refused).
  const usage = await runCommand(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts/build-binary.ts'), '--out', '/nonexistent-dir/x', '--strip', '--', '--strip'], { cwd: REPO, env: { PATH: process.env.PATH } })
  assert.match(usage.stderr, /Unexpected argument '--strip'/)
  // --help is no unknown option: the usage, exit 0, nothing built.
  const help = await runCommand(process.execPath, ['--import', 'tsx', path.join(REPO, 'scripts/build-binary.ts'), '--help'], { cwd: REPO, env: { PATH: process.env.PATH } })
  assert.equal(help.code, 0, help.stderr)
  assert.match(help.stdout, /^usage: npm run build:binary -- \[--out <file>\] \[--strip\]\n/)
  assert.equal(help.stderr, '')
})
