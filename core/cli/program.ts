/**
 * The `wxengine` command line: every subcommand, its flags and help. Each command lives in
 * core/cli/commands/, one file each, and returns its exit code: 0 ok, 1 the thing checked failed,
 * 2 usage or configuration error.
 */
import { Command, InvalidArgumentError } from 'commander'
import { docsPage } from '../docs-page.ts'
import { runBuild } from './commands/build.ts'
import { runFollowers } from './commands/followers.ts'
import { runStorage } from './commands/storage.ts'
import { runSession } from './commands/session.ts'
import { runInit } from './commands/init.ts'
import { runLog } from './commands/log.ts'
import { runMassDelete, runMassPreview, runMassResults, runMassSend, runMassStatus, runMassTags, type MassPreviewFlags, type MassSendFlags } from './commands/mass.ts'
import { runMenuCheck, runMenuDelete, runMenuMatch, runMenuPull, runMenuPush, runMenuShow } from './commands/menu.ts'
import { runPluginNew } from './commands/plugin-new.ts'
import { runQrcodeCreate, runQrcodeImage, type QrcodeFlags } from './commands/qrcode.ts'
import { runRulesCheck } from './commands/rules-check.ts'
import { DEFAULT_WAIT_SECONDS, runSend } from './commands/send.ts'
import { runStart } from './commands/start.ts'
import { runStats } from './commands/stats.ts'
import { runWebLink } from './commands/web.ts'
import { isSingleBinary } from '../binary/sea-assets.ts'
import { EXIT_USAGE } from './cli-context.ts'
// Inlined by the binary's bundle: an operator checking which build is deployed asks the binary itself.
import packageJson from '../../package.json' with { type: 'json' }

// Digits only, as PORT is read (load-config.ts): Number() took "" as 0 (`--port ""` listened on a random
// port), "0x46A6" as 18086 and "1e3" as 1000.
const port = (v: string): number => {
  const n = /^\s*\d{1,5}\s*$/.test(v) ? Number(v) : NaN
  if (!(n <= 65535)) throw new InvalidArgumentError('a port is a whole number from 0 to 65535, in digits')
  return n
}

/** The most a count or a number of seconds given here may be: past it SQLite refused the limit as a stack trace. */
const MAX_INT_OPTION = 2_147_483_647

const positiveInt = (v: string): number => {
  const n = /^\s*\d{1,10}\s*$/.test(v) ? Number(v) : NaN
  if (!(n >= 1 && n <= MAX_INT_OPTION)) throw new InvalidArgumentError(`a whole number of 1 or more (up to ${MAX_INT_OPTION}), in digits`)
  return n
}

const seconds = (v: string): number => {
  const n = Number(v)
  // Optional value: `send --local --wait "hi"` takes the text for it, so the message says where the text goes.
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`a number of seconds, e.g. 30; the text goes before the options: wxengine send "hi" --local --wait`)
  return n
}

const collect = (v: string, all: string[]): string[] => [...all, v]

/** `project`: -C's default, the working directory unless said (main.ts: `npm run wxengine` from a subfolder). */
export function buildCli({ project = process.cwd() }: { project?: string } = {}): Command {
  const program = new Command('wxengine')
    .description('A plugin-based chatbot engine for WeChat Official Accounts')
    .option('-C, --root <dir>', 'project directory (engine.config.ts, rules/, plugins/, data/)', project)
    .option('-c, --config <file>', 'config file (default: engine.config.ts in the project directory)')
    .version(`${packageJson.version} (node ${process.version})`, '-V, --version', 'print the version of wxengine and of node')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride((err) => {
      // commander exits 1 on usage errors; ours say 2 (and --help / --version stay 0).
      process.exit(err.exitCode === 0 ? 0 : EXIT_USAGE)
    })
  const global = () => program.opts<{ root: string; config?: string }>()
  // A failure already set stays (wxengine test: a test file that failed to load while the command was
  // still registering the others); a command's own code never turns it back into success.
  const done = (code: number) => {
    if (code !== 0 || !process.exitCode) process.exitCode = code
  }

  program
    .command('start')
    .description('serve WeChat requests (production)')
    .option('-p, --port <port>', 'port to listen on (default: PORT or the config)', port)
    .action(async (o: { port?: number }) => done(await runStart({ ...global(), port: o.port })))

  program
    .command('dev')
    .description('serve with hot reload of rules/ and plugins/ and readable logs')
    .option('-p, --port <port>', 'port to listen on', port)
    .action(async (o: { port?: number }) => done(await runStart({ ...global(), port: o.port, dev: true })))

  program
    .command('send')
    .description('play a WeChat user: sign (and encrypt) a message like WeChat does, send it, print the reply')
    .argument('[text]', 'the text of a text message')
    .option('-u, --openid <openid>', "the sending user's OpenID", 'cli-user')
    .option('-a, --account <id>', 'account to send as (default: the config defaultAccount)')
    .option('--url <url>', 'engine base URL (default: http://<HOST>:<port> as the config has them; 127.0.0.1 for every interface)')
    .option('-p, --port <port>', 'an engine on this machine on this port: short for --url http://<HOST>:<port>', port)
    .option('--local', 'run the engine in this process instead of sending over HTTP (no server needed)')
    .option('-t, --type <msgtype>', 'MsgType of a user message: text image voice video shortvideo location link file ...')
    .option('-e, --event <event>', 'send an event instead: subscribe unsubscribe SCAN CLICK VIEW LOCATION scancode_push ...')
    .option('-k, --key <eventkey>', 'EventKey of the event (menu key, or qrscene_123 for a subscribe via QR code)')
    .option('-l, --location <lat,lng[,scale]>', 'a location message, or with --event LOCATION the reported position')
    .option('-f, --field <name=value>', 'any other push field, repeatable (e.g. --field MediaId=m1; inside an element: --field ScanCodeInfo.ScanResult=abc)', collect, [])
    .option('--raw', 'print the reply body as received (XML, still encrypted in safe mode)')
    .option('--wait [seconds]', `with --local: then keep the engine running (default ${DEFAULT_WAIT_SECONDS} s) and print the messages it sends through the API (a late reply, ctx.api.sendToUser, ctx.api.sendTemplate, ctx.api.sendSubscribeMessage), captured on 127.0.0.1 instead of sent to WeChat`, seconds)
    // A function: the docs are looked for in the project -C names, known once the options are parsed.
    .addHelpText('after', () => `
Fields a message or event needs and that are not given get placeholders, named on stderr: --type image
alone sends PicUrl https://example.com/wxengine-send.jpg and MediaId cli-image-media-id, --event CLICK an
EventKey CLI_KEY, --type location 23.13,113.26 (all of them: ${docsPage('cli.md', global().root)}).

Examples:
  wxengine send "hello"
  wxengine send "hello" --openid u1 --local
  wxengine send --openid u1 --type image
  wxengine send --openid u1 --type image --field PicUrl=http://example.com/a.jpg --field MediaId=m1
  wxengine send --openid u1 --event CLICK --key MENU_HELP
  wxengine send --openid u1 --event subscribe --key qrscene_123 --field Ticket=t1
  wxengine send --openid u1 --location 23.13,113.26
  wxengine send --openid u1 --event LOCATION --location 23.13,113.26
  wxengine send "report" --local --wait 30`)
    .action(async (text: string | undefined, o: { openid: string; account?: string; url?: string; port?: number; local?: boolean; type?: string; event?: string; key?: string; location?: string; field: string[]; raw?: boolean; wait?: number | true }) =>
      done(await runSend({ ...global(), ...o, text, fields: o.field, wait: o.wait === true ? DEFAULT_WAIT_SECONDS : o.wait })))

  const rules = program.command('rules').description('work with rules/')
  rules
    .command('check')
    .description('load the rules as the engine would; print file:line:col errors (exit 1) or a summary and warnings')
    .argument('[dir]', 'rules directory (default: rulesDir from the config)')
    .option('--strict', 'warnings fail the check too (exit 1): for CI')
    .action(async (dir: string | undefined, o: { strict?: boolean }) => done(await runRulesCheck({ ...global(), dir, strict: o.strict })))

  const menu = program.command('menu').description("an account's custom menu: menus/<account-id>.yaml, checked against the rules, sent with the menu API")
  const accountOption = ['-a, --account <id>', 'the account (default: the config defaultAccount)'] as const
  menu
    .command('check')
    .description('check the menu file (file:line:col errors, exit 1) and say what answers each button; no API call')
    .option(...accountOption)
    .option('--strict', 'warnings fail the check too (exit 1): a button nothing answers, a name the client cuts')
    .action(async (o: { account?: string; strict?: boolean }) => done(await runMenuCheck({ ...global(), ...o })))
  menu
    .command('push')
    .description("check the menu file, then make it the menu (POST /cgi-bin/menu/create), and its conditional: the account's personalized menus (menu/delconditional, menu/addconditional)")
    .option(...accountOption)
    .option('--dry-run', 'print the JSON it would send, send nothing (no appSecret needed)')
    .action(async (o: { account?: string; dryRun?: boolean }) => done(await runMenuPush({ ...global(), ...o })))
  menu
    .command('show')
    .description("print the account's current menu as a menu file, personalized menus included (menu/get, or a console-made menu)")
    .option(...accountOption)
    .action(async (o: { account?: string }) => done(await runMenuShow({ ...global(), ...o })))
  menu
    .command('pull')
    .description("write the account's current menu to menus/<account-id>.yaml (a console-made one too)")
    .option(...accountOption)
    .option('--force', 'replace the file if it exists')
    .action(async (o: { account?: string; force?: boolean }) => done(await runMenuPull({ ...global(), ...o })))
  menu
    .command('match')
    .description('print the menu a user sees, default or personalized (POST /cgi-bin/menu/trymatch)')
    .argument('<user>', "the user's OpenID, or WeChat ID")
    .option(...accountOption)
    .action(async (user: string, o: { account?: string }) => done(await runMenuMatch(user, { ...global(), ...o })))
  menu
    .command('delete')
    .description("remove the account's menu (GET /cgi-bin/menu/delete); the file is kept")
    .option(...accountOption)
    .option('--yes', 'really delete it')
    .action(async (o: { account?: string; yes?: boolean }) => done(await runMenuDelete({ ...global(), ...o })))

  const qrcode = program.command('qrcode').description("parameter QR codes (带参数二维码) for the rules' scene handlers (type: subscribe / scan with scene:)")
  qrcode
    .command('create')
    .description('say what a scan of a code for <scene> gets (asked of the rules), then make the code (POST /cgi-bin/qrcode/create)')
    .argument('<scene>', 'the scene: digits are a scene_id (QR_SCENE), anything else a scene string (QR_STR_SCENE, 1 to 64 characters)')
    .option(...accountOption)
    .option('--permanent', 'a permanent code (QR_LIMIT_SCENE, scene_id 1 to 100000; QR_LIMIT_STR_SCENE): at most 100000 an account')
    .option('--expire <duration>', 'how long a temporary code lives: 7d, 12h, 30m, 3600s; at most 30d (default 30d)')
    .option('--str', 'send a scene of digits as a scene string (QR_STR_SCENE): for 0123, or over 100000 on a permanent code')
    .option('-o, --out <file>', 'write the image there (from showqrcode)')
    .option('--strict', "a push nothing for this scene answers fails it (exit 1) and no code is made")
    .option('--dry-run', 'check and print the JSON it would send, send nothing (no appSecret needed)')
    .addHelpText('after', `
A scan sends a subscribe push (EventKey qrscene_<scene>) from a new follower and a SCAN push (EventKey
<scene>) from a follower; a handler {type: subscribe, scene: <scene>} and {type: scan, scene: <scene>}
answer them. Prints the ticket, the url the image encodes, the image's address and when the code expires.

Examples:
  wxengine qrcode create 1001 --expire 7d --out poster-1001.jpg
  wxengine qrcode create spring-expo --permanent --out expo.jpg
  wxengine qrcode create 1001 --strict --dry-run`)
    .action(async (scene: string, o: Omit<QrcodeFlags, 'root' | 'config'>) => done(await runQrcodeCreate(scene, { ...global(), ...o })))
  qrcode
    .command('image')
    .description("fetch the image of a code made earlier from its ticket (showqrcode; no AppSecret needed)")
    .argument('<ticket>', 'the ticket qrcode create printed (URL-encoded, as in its image address, is taken too)')
    .requiredOption('-o, --out <file>', 'write the image there')
    .addHelpText('after', `
Example:
  wxengine qrcode image gQH47joAAAAAAAAAASxodHRwOi8v... --out poster-1001.jpg`)
    .action(async (ticket: string, o: { out: string }) => done(await runQrcodeImage(ticket, { ...global(), ...o })))

  // From the working directory: a description is made before -C is read.
  const web = program.command('web').description(`pages inside WeChat: the account's web login (${docsPage('web.md', process.cwd())})`)
  web
    .command('link')
    .description("print the login link of one of the account's pages: opened in WeChat, it logs the user in and opens the page with a ticket")
    .argument('<page>', 'the full URL of the page, on the account\'s pageDomains')
    .option(...accountOption)
    .option('--scope <scope>', 'base (silently, the openid) or userinfo (WeChat asks for the profile)', 'base')
    .addHelpText('after', `
The link is on publicUrl (PUBLIC_URL), the same one ctx.web.loginUrl and a menu button's login: send. Put it
in a menu made in the console, an article, a poster's QR code.

Example:
  wxengine web link https://h5.example.com/center --scope userinfo`)
    .action((page: string, o: { account?: string; scope?: string }) => done(runWebLink(page, { ...global(), ...o })))

  const mass = program.command('mass').description('mass sending (群发): broadcast to every follower, a tag or a list of OpenIDs; preview, status, delete, tags, results')
  const contentOptions = (c: Command, preview: boolean): Command => {
    c.option('--text <text>', 'a text message')
      .option('--image <file-or-media_id>', 'an image: a file (uploaded as permanent material, once) or a media_id')
      .option('--voice <file-or-media_id>', 'a voice message: a file (mp3, wma, wav, amr; uploaded once) or a media_id')
      .option('--mpnews <media_id>', 'an article (图文消息) of the material library')
      .option('--mpvideo <media_id>', 'a video made for mass sending (media/uploadvideo)')
    if (!preview) {
      c.option('--ignore-reprint', 'with --mpnews: send an article WeChat finds to be a reprint anyway (send_ignore_reprint 1)')
        .option('--recommend <text>', 'with --image: the recommendation text shown with the images')
        .option('--open-comment', 'with --image: open comments')
        .option('--fans-only-comment', 'with --image and --open-comment: only followers may comment')
    }
    return c
  }
  contentOptions(
    mass
      .command('send')
      .description('send to every follower (--all), a tag (--tag) or 2 to 10000 OpenIDs (--to, --to-file): POST message/mass/sendall or message/mass/send')
      .option(...accountOption)
      .option('--all', 'every follower of the account (is_to_all: the send goes into the history list)')
      .option('--tag <id>', 'the followers with this tag (wxengine mass tags lists them)')
      .option('--to <openid,openid,...>', '2 to 10000 OpenIDs, separated by commas')
      .option('--to-file <file>', 'the OpenIDs in a file, one a line (a list too long for the command line)'),
    false,
  )
    .option('--client-msg-id <id>', 'the clientmsgid (at most 64 bytes; default: a hash of account, target, content and UTC day)')
    .option('--dry-run', 'check and print the JSON it would send, send nothing (no appSecret needed)')
    .option('--yes', 'really send it: without it the command says what it would reach and sends nothing')
    .addHelpText('after', `
WeChat refuses a clientmsgid it has seen in the last 24 hours (and answers that send's msg_id): the same
command run twice the same day (UTC) sends once; the second says "already sent as msg_id N" and exits 0.
A subscription account sends to all once a day; a service account's followers get at most 4 mass messages
a month. An account with API mass-send protection holds a send to all until an administrator confirms it
(30 minutes at most).

Examples:
  wxengine mass send --all --text "We open at 9 tomorrow" --dry-run
  wxengine mass send --tag 2 --image poster.jpg --yes
  wxengine mass send --to o6_bmjrPTlm6_2sgVt7hMZOPfL2M,o6_bmasdasdsad6_2sgVt7hMZOPfL2M --mpnews <media_id> --yes
  wxengine mass send --to-file vip-openids.txt --text "Thank you" --yes`)
    .action(async (o: Omit<MassSendFlags, 'root' | 'config'>) => done(await runMassSend({ ...global(), ...o })))
  contentOptions(
    mass
      .command('preview')
      .description('send the message to one user to see it on a phone first (POST message/mass/preview)')
      .option(...accountOption)
      .option('--to <openid>', 'the OpenID of a follower')
      .option('--to-wxname <wxid>', 'a WeChat ID (微信号) instead: at most 100 previews a day this way'),
    true,
  )
    .option('--dry-run', 'check and print the JSON it would send, send nothing (no appSecret needed)')
    .action(async (o: Omit<MassPreviewFlags, 'root' | 'config'>) => done(await runMassPreview({ ...global(), ...o })))
  mass
    .command('status')
    .description("a send's state: SENDING, SEND_SUCCESS, SEND_FAIL or DELETE (POST message/mass/get)")
    .argument('<msg_id>', 'the msg_id mass send printed')
    .option(...accountOption)
    .action(async (msgId: string, o: { account?: string }) => done(await runMassStatus(msgId, { ...global(), ...o })))
  mass
    .command('delete')
    .description("delete a sent article or video: its page stops opening (POST message/mass/delete)")
    .argument('<msg_id>', 'the msg_id mass send printed')
    .option(...accountOption)
    .option('--article <idx>', "only this article of an mpnews (1 the first; 0 or none: the whole message)")
    .option('--yes', 'really delete it')
    .action(async (msgId: string, o: { account?: string; article?: string; yes?: boolean }) => done(await runMassDelete(msgId, { ...global(), ...o })))
  mass
    .command('tags')
    .description("the account's tags and how many followers each has, to pick --tag (GET tags/get)")
    .option(...accountOption)
    .option('--json', 'as JSON')
    .action(async (o: { account?: string; json?: boolean }) => done(await runMassTags({ ...global(), ...o })))
  mass
    .command('results')
    .description("the mass sends' results the engine received (MASSSENDJOBFINISH, from the message log): status and counts")
    .option('-a, --account <id>', 'only this account')
    .option('--since <when>', 'only since a duration ago (30s, 10m, 2h, 7d) or a date (2024-05-01T08:00)')
    .option('-n, --limit <n>', 'at most this many, the latest (default 50)', positiveInt)
    .option('--json', 'as JSON')
    .action(async (o: { account?: string; since?: string; limit?: number; json?: boolean }) => done(await runMassResults({ ...global(), ...o })))

  program
    .command('init')
    .description('make a folder a wxengine project (or complete one): config, rules, an example menu, folders, editor types')
    .argument('[dir]', 'the project folder (default: -C, the working directory)')
    .addHelpText('after', `
Writes engine.config.ts (with a made-up token), rules/default.yaml, plugins/, test/plugins/, tsconfig.json
and .gitignore where they are missing (nothing is overwritten), and the declaration files of
wxengine/plugin, wxengine/config and wxengine/testkit under .wxengine/types for your editor. With a new
engine.config.ts and rules/default.yaml it writes menus/default.yaml too, a menu those rules answer.`)
    .action(async (dir: string | undefined) => done(await runInit({ ...global(), dir })))

  const plugin = program.command('plugin').description('work with plugins/')
  plugin
    .command('new')
    .description('create plugins/<name>/ with a rule routing "<name> ..." to it and a test that passes')
    .argument('<name>', 'plugin name: lowercase letters, digits and hyphens (e.g. weather)')
    .action(async (name: string) => done(await runPluginNew({ ...global(), name })))

  program
    .command('test')
    .description('run the project\'s plugin tests (test/plugins/ by default) with the engine\'s test kit, on node\'s test runner')
    .argument('[paths...]', 'test files or folders to run instead (*.test.ts, *.test.js)')
    .addHelpText('after', `
Test files import the test kit as 'wxengine/testkit' (see the one \`wxengine plugin new\` writes). Exit 0
when every test passes, 1 when one fails or no test file is found, 2 for a path that does not exist.`)
    // Loaded on use: the other commands have no need of node's test runner.
    .action(async (paths: string[]) => done(await (await import('./commands/test.ts')).runTest({ ...global(), paths })))

  program
    .command('log')
    .description('read the message log, oldest first')
    .option('--user <openid>', 'only this user')
    .option('-a, --account <id>', 'only this account')
    .option('--since <when>', 'only since a duration ago (30s, 10m, 2h, 7d) or a date (2024-05-01T08:00)')
    .option('-n, --limit <n>', 'at most this many, the latest (default 50)', positiveInt)
    .option('--json', 'one JSON object per line')
    .action(async (o: { user?: string; account?: string; since?: string; limit?: number; json?: boolean }) => done(await runLog({ ...global(), ...o })))

  program
    .command('stats')
    .description('how often each rule and keyword answered (from the message log), most first')
    .option('-a, --account <id>', 'only this account')
    .option('--json', 'as JSON')
    .action(async (o: { account?: string; json?: boolean }) => done(await runStats({ ...global(), ...o })))

  program
    .command('followers')
    .description('how many followers each QR code (scene) brought, and how many still follow (from the message log)')
    .option('-a, --account <id>', 'only this account')
    .option('--since <when>', 'only users whose latest follow is since a duration ago (30s, 10m, 2h, 7d) or a date (2024-05-01T08:00)')
    .option('--json', 'as JSON')
    .addHelpText('after', `
Each user counts once, under the scene of their latest follow ("-": a follow without a QR code);
UNFOLLOWED are those of them who have left since. Counted as the message log is written, from the
version of wxengine that added it on: a follow from before that, from before the engine ran, or while
the log was off (log.retentionDays: 0) is not counted, and the unfollow of such a user is shown apart as
(unknown). Users who left are kept only as counts per scene and day once log.retentionDays has passed
(with log.purgeOnUnsubscribe: at the next prune): --since takes those by whole days, and such a user who
follows again counts as new. Counted per DATA_DIR: with a fleet, per instance. Exit 0, also with nothing to
show yet.`)
    .action(async (o: { account?: string; since?: string; json?: boolean }) => done(await runFollowers({ ...global(), ...o })))

  const storage = program
    .command('storage')
    .description("what plugins keep in the store: a plugin's keys (ctx.storage) or a shared area's (shared:<area>), plugin-wide or a user's")
    .addHelpText('after', `
<owner> is a plugin's name (its folder in plugins/) or shared:<area> for a shared storage area. Keys are
the plugin's own names; --user <openid> takes that user's keys (ctx.storage.user), else the plugin-wide
ones. Values are JSON. It works beside a running engine: a plugin's next message sees a value set here.`)
  const userOption = ['--user <openid>', "that user's keys (ctx.storage.user) instead of the plugin-wide ones"] as const
  storage
    .command('list')
    .description('the keys and their values, sorted')
    .argument('<owner>', 'a plugin, or shared:<area>')
    .option(...userOption)
    .option('-n, --limit <n>', 'at most this many (default 50)', positiveInt)
    .option('--json', 'as a JSON array of { key, value }')
    .action(async (owner: string, o: { user?: string; limit?: number; json?: boolean }) => done(await runStorage({ ...global(), action: 'list', owner, ...o })))
  storage
    .command('get')
    .description("a key's value, as JSON (exit 1 when there is none)")
    .argument('<owner>', 'a plugin, or shared:<area>')
    .argument('<key>', 'the key, as the plugin names it')
    .option(...userOption)
    .option('--json', 'on one line')
    .action(async (owner: string, key: string, o: { user?: string; json?: boolean }) => done(await runStorage({ ...global(), action: 'get', owner, key, ...o })))
  storage
    .command('set')
    .description('set a key to a JSON value: 100, true, \'"Paris"\', \'{"a":1}\'')
    .argument('<owner>', 'a plugin, or shared:<area>')
    .argument('<key>', 'the key, as the plugin names it')
    .argument('<value>', 'JSON')
    .option(...userOption)
    .option('--ttl <seconds>', 'expire it after this many seconds', positiveInt)
    .action(async (owner: string, key: string, value: string, o: { user?: string; ttl?: number }) => done(await runStorage({ ...global(), action: 'set', owner, key, value, ...o })))
  storage
    .command('delete')
    .description('delete a key')
    .argument('<owner>', 'a plugin, or shared:<area>')
    .argument('<key>', 'the key, as the plugin names it')
    .option(...userOption)
    .action(async (owner: string, key: string, o: { user?: string }) => done(await runStorage({ ...global(), action: 'delete', owner, key, ...o })))

  const session = program
    .command('session')
    .description("the users in a dialogue with a plugin (their conversation locked to it), and ending one's")
    .addHelpText('after', `
A session is a user's conversation locked to a plugin (ctx.session.begin, dialogue()): their messages go
to it before any rule until it ends or expires. Ending one routes the user's next message afresh; the
plugin's storage is left as it is (wxengine storage). It works beside a running engine.`)
  session
    .command('list')
    .description('the live sessions, the soonest to end first')
    .option('-a, --account <id>', 'only this account')
    .option('-p, --plugin <name>', "only this plugin's")
    .option('-n, --limit <n>', 'at most this many (default 50)', positiveInt)
    .option('--json', 'as a JSON array of { account, openId, plugin, state, expiresAt }')
    .action(async (o: { account?: string; plugin?: string; limit?: number; json?: boolean }) => done(await runSession({ ...global(), action: 'list', ...o })))
  session
    .command('end')
    .description("end a user's session, or every session of a plugin: their next message is routed afresh (exit 0 also when there was none)")
    .argument('[openid]', "the user's OpenID")
    .option('-a, --account <id>', "the account (default: the default account; with --plugin, every account's)")
    .option('-p, --plugin <name>', 'every session of this plugin instead of one user\'s')
    .action(async (openId: string | undefined, o: { account?: string; plugin?: string }) => done(await runSession({ ...global(), action: 'end', openId, ...o })))

  // Left out of the binary's help: there it can only say to run it from a source checkout.
  program
    .command('build', { hidden: isSingleBinary() })
    .description('build the single executable dist/wxengine (from a source checkout)')
    .option('-o, --out <file>', 'where to write it (default: dist/wxengine in the source tree)')
    .option('--strip', "strip the copied node's symbol table (smaller)")
    .option('--reproducible', 'the same bytes from the same source, node and SQLite addon: no V8 code cache (starts ~100 ms slower)')
    .action(async (o: { out?: string; strip?: boolean; reproducible?: boolean }) => done(await runBuild({ out: o.out, strip: o.strip, reproducible: o.reproducible })))

  return program
}
