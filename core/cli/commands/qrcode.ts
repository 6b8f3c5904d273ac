/**
 * `wxengine qrcode create <scene>`: a parameter QR code (带参数二维码) for the rules' scene handlers
 * (`type: subscribe` / `type: scan` with `scene:`, docs/rules.md), made with the platform's QR code API.
 *
 *   1. the request checked against WeChat's limits (core/qrcode/qrcode-request.ts): usage errors, exit 2
 *   2. what a scan will get, asked of the router as menu check asks it (core/qrcode/qrcode-answers.ts): the
 *      subscribe push of a new follower and the SCAN push of a follower; a push nothing for the scene answers
 *      is a warning, which --strict fails (exit 1) before anything is made
 *   3. POST qrcode/create with the access_token the engine keeps in the project's store (open-account-api.ts)
 *   4. with --out, the image from showqrcode (platform.mpBase), written to the file
 *
 * `wxengine qrcode image <ticket> --out <file>`: step 4 alone, for a code made earlier whose ticket was kept
 * (showqrcode takes only the ticket: no token, no AppSecret).
 */
import { loadProjectRules } from '../load-project-rules.ts'
import { existsSync, statSync } from 'node:fs'
import { rename, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { explainQrcodeError, fetchQrcodeImage, readCreateAnswer, showQrcodeUrl } from '../../qrcode/qrcode-api.ts'
import { refusalErrcode } from '../../platform/explain-errcode.ts'
import { answersForScene } from '../../qrcode/qrcode-answers.ts'
import { MAX_PERMANENT_SCENE_ID, QRCODE_CREATE_PATH, qrcodeBody } from '../../qrcode/qrcode-request.ts'
import type { JsonValue } from '../../plugin/plugin-api.ts'
import { answerContextOf } from '../../route/what-answers.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, loadProjectAccount, loadProjectConfig, shownPath, stdio, utcDateTime, type GlobalFlags, type Output } from '../cli-context.ts'
import { openAccountApi } from '../open-account-api.ts'

export interface QrcodeFlags extends GlobalFlags {
  account?: string
  permanent?: boolean
  expire?: string
  str?: boolean
  out?: string
  strict?: boolean
  dryRun?: boolean
}

const COMMAND = 'qrcode create'

/** --out as an absolute path, or null (said) when its folder does not exist or it is a folder. */
function outFile(given: string, command: string, suggested: string, io: Output): string | null {
  const out = path.resolve(given)
  const dir = path.dirname(out)
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    io.err(`wxengine ${command}: --out ${given}: the folder ${shownPath(dir)} does not exist`)
    return null
  }
  if (existsSync(out) && statSync(out).isDirectory()) {
    io.err(`wxengine ${command}: --out ${given} is a folder: name the image file (${path.join(given, suggested)})`)
    return null
  }
  return out
}

/**
 * The image written beside `file` and renamed onto it: a write that fails partway (a full disk) leaves no
 * half an image under the poster's name, and an existing file stays as it was until the new one is whole.
 */
async function writeWhole(file: string, bytes: Buffer): Promise<void> {
  const temp = `${file}.${process.pid}.part`
  try {
    await writeFile(temp, bytes)
    await rename(temp, file)
  } catch (e) {
    await rm(temp, { force: true }).catch(() => undefined)
    throw e
  }
}

/** `30 days`, `12 hours`, `90 seconds`: the largest unit that divides it, else seconds. */
function duration(seconds: number): string {
  for (const [unit, n] of [['day', 86_400], ['hour', 3600], ['minute', 60]] as const) {
    if (seconds % n === 0) return `${seconds / n} ${unit}${seconds / n === 1 ? '' : 's'}`
  }
  return `${seconds} second${seconds === 1 ? '' : 's'}`
}

/**
 * The `expires:` line, told by what was asked (as the `made:` line is), not by the answer alone: a temporary
 * code whose answer lacks expire_seconds was printed "never (a permanent code...)" under "made: a temporary
 * QR code". WeChat's lifetime is shown when it answers one; without it, the one asked for, said to be so.
 */
function expiresLine(asked: number | undefined, answered: number | undefined, at: number): string {
  if (asked === undefined) return `expires: never (a permanent code; an account has at most ${MAX_PERMANENT_SCENE_ID} of them)`
  const seconds = answered ?? asked
  const said = answered === undefined ? ', as asked: WeChat\'s answer did not say' : ''
  return `expires: ${utcDateTime(at + seconds * 1000)} UTC (in ${duration(seconds)}${said})`
}

export async function runQrcodeCreate(scene: string, flags: QrcodeFlags, io: Output = stdio, now: () => number = Date.now): Promise<number> {
  const asked = qrcodeBody({ scene, permanent: flags.permanent ?? false, expire: flags.expire, str: flags.str ?? false })
  if (!asked.ok) {
    io.err(`wxengine ${COMMAND}: ${asked.message}`)
    return EXIT_USAGE
  }
  const body = asked.body
  const loaded = loadProjectAccount(flags, COMMAND, io)
  if (!loaded) return EXIT_USAGE
  const { config, account } = loaded
  // Said before a code is made: a permanent one spent for an image that cannot be written is a waste.
  const out = flags.out === undefined ? undefined : outFile(flags.out, COMMAND, `qrcode-${scene}.jpg`, io)
  if (out === null) return EXIT_USAGE

  const rules = await loadProjectRules(config, 'what answers a scan', io)
  if (!rules) return EXIT_FAILED
  const answers = answersForScene(scene, answerContextOf(config, account, rules))
  io.out(`scene ${scene} (account ${account.id}):`)
  io.out(`  ${answers.subscribe.line}`)
  io.out(`  ${answers.scan.line}`)
  for (const w of answers.warnings) io.err(`warning: ${w}`)
  if (flags.strict && answers.warnings.length > 0) {
    io.err(`${answers.warnings.length} warning${answers.warnings.length === 1 ? '' : 's'}, which --strict counts as failures: no QR code made`)
    return EXIT_FAILED
  }

  if (flags.dryRun) {
    io.out(`POST ${QRCODE_CREATE_PATH}`)
    io.out(JSON.stringify(body))
    io.err(`dry run: this is the JSON POST ${QRCODE_CREATE_PATH} would send for account ${account.id}; nothing was sent`)
    return EXIT_OK
  }
  const opened = await openAccountApi(config, account, COMMAND, 'the QR code API', io)
  if (typeof opened === 'number') return opened
  let created
  const at = now()
  try {
    const r = await opened.api.postResult(QRCODE_CREATE_PATH, body as unknown as JsonValue)
    if (!r.ok) {
      const errcode = refusalErrcode(r)
      // A timeout or a lost answer: WeChat may have made the code, whose ticket never came (a permanent one
      // then counts among the account's 100000 all the same). Said so, not as a code not made.
      if (r.error.errcode === undefined && !('ofAccessToken' in r)) {
        io.err(`wxengine ${COMMAND}: no answer from WeChat (${r.error.reason}): the code may have been made, but its ticket did not come; run the command again for one`)
        return EXIT_FAILED
      }
      io.err(`wxengine ${COMMAND}: no QR code made: ${errcode !== undefined ? `${explainQrcodeError(errcode)} (${r.error.reason})` : r.error.reason}`)
      return EXIT_FAILED
    }
    created = readCreateAnswer(r.value)
    if (!created) {
      io.err(`wxengine ${COMMAND}: ${QRCODE_CREATE_PATH} answered without a ticket and url: ${JSON.stringify(r.value).slice(0, 200)}`)
      return EXIT_FAILED
    }
  } finally {
    await opened.close()
  }

  const kind = body.expire_seconds === undefined ? 'permanent' : 'temporary'
  io.out(`made: a ${kind} QR code for scene ${scene} (${body.action_name}, account ${account.id})`)
  io.out(`ticket: ${created.ticket}`)
  io.out(`url: ${created.url}`)
  const image = showQrcodeUrl(config.platform.mpBase, created.ticket)
  io.out(`image: ${image}`)
  io.out(expiresLine(body.expire_seconds, created.expireSeconds, at))
  if (out === undefined) return EXIT_OK

  const fetched = await fetchQrcodeImage(config.platform.mpBase, created.ticket)
  if (!fetched.ok) {
    io.err(`wxengine ${COMMAND}: the code is made (ticket above), but its image could not be fetched: ${fetched.reason}; fetch it from the image address above`)
    return EXIT_FAILED
  }
  try {
    await writeWhole(out, fetched.bytes)
  } catch (e) {
    io.err(`wxengine ${COMMAND}: the code is made (ticket above), but ${shownPath(out)} could not be written: ${(e as Error).message}; fetch the image from the address above`)
    return EXIT_FAILED
  }
  io.out(`wrote ${shownPath(out)} (${fetched.bytes.length} bytes)`)
  return EXIT_OK
}

const IMAGE_COMMAND = 'qrcode image'

/**
 * The image of a code made earlier, from its ticket: the same download as create's --out (showqrcode on
 * platform.mpBase, at most 5 MB, an image or refused). A ticket as the `image:` line shows it, URL-encoded
 * (`%3D`), is taken too: a ticket is base64, which has no `%`.
 */
export async function runQrcodeImage(ticket: string, flags: GlobalFlags & { out: string }, io: Output = stdio): Promise<number> {
  const given = ticket.trim()
  if (given === '') {
    io.err(`wxengine ${IMAGE_COMMAND}: the ticket is empty: give the one qrcode create printed (ticket: ...)`)
    return EXIT_USAGE
  }
  let plain = given
  if (given.includes('%')) {
    try {
      plain = decodeURIComponent(given)
    } catch {
      io.err(`wxengine ${IMAGE_COMMAND}: ticket ${JSON.stringify(given.slice(0, 100))} is not one: a ticket is base64, and this has a % that is not URL-encoding`)
      return EXIT_USAGE
    }
  }
  const out = outFile(flags.out, IMAGE_COMMAND, 'qrcode.jpg', io)
  if (out === null) return EXIT_USAGE
  const config = loadProjectConfig(flags, io)
  if (!config) return EXIT_USAGE

  const fetched = await fetchQrcodeImage(config.platform.mpBase, plain)
  if (!fetched.ok) {
    io.err(`wxengine ${IMAGE_COMMAND}: the image could not be fetched: ${fetched.reason}`)
    return EXIT_FAILED
  }
  try {
    await writeWhole(out, fetched.bytes)
  } catch (e) {
    io.err(`wxengine ${IMAGE_COMMAND}: ${shownPath(out)} could not be written: ${(e as Error).message}`)
    return EXIT_FAILED
  }
  io.out(`wrote ${shownPath(out)} (${fetched.bytes.length} bytes)`)
  return EXIT_OK
}
