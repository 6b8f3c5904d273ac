/**
 * What a scan of a parameter QR code gets, asked of the router itself, as menu check asks it about a button
 * (core/route/what-answers.ts): a scan sends one of two pushes (protocol.md §3), built here as XML fields,
 * normalized as the server normalizes them, and walked without a session; no plugin runs.
 *
 *   a new follower's scan   Event subscribe, EventKey qrscene_<scene>: a `type: subscribe` handler with
 *                           `scene:`, else generic subscribe handlers, else the welcome reply
 *   a follower's scan       Event SCAN, EventKey <scene>: a `type: scan` handler with `scene:`, else generic
 *                           scan handlers, else nothing (a SCAN gets no default reply)
 *
 * A push is answered for this scene when a handler naming it is among the candidates tried before the first
 * that surely answers everyone, would run (its plugin is there; a media file in its reply can be uploaded, so
 * not on an account without an appSecret) and is for everyone (no `users:`). Otherwise
 * the code works as a plain follow code would: a warning, which `qrcode create --strict` fails.
 */
import type { RawFields } from '../normalize/message-types.ts'
import { describeAnswer, describeChain, unansweredNotes, whatAnswersPush, type Answer, type AnswerContext } from '../route/what-answers.ts'
import { QR_SCENE_PREFIX } from './qrcode-request.ts'

export type ScanPush = 'subscribe' | 'scan'

export interface ScanAnswer {
  push: ScanPush
  answer: Answer
  /** A handler for this scene answers it (for everyone, its plugin there). */
  sceneSpecific: boolean
  /** `a new follower's scan (subscribe, EventKey qrscene_1001): handler "poster" -> reply text`. */
  line: string
}

export interface SceneAnswers {
  subscribe: ScanAnswer
  scan: ScanAnswer
  /** One per push nothing for this scene answers, saying what it gets instead and what to write. */
  warnings: string[]
}

const WHO: Record<ScanPush, string> = { subscribe: "a new follower's scan", scan: "a follower's scan" }
const EVERY: Record<ScanPush, string> = { subscribe: 'every follow', scan: 'every scan' }

/** The push WeChat sends for a scan of the code (protocol.md §3), as parsed XML fields. */
export function scanPushFields(scene: string, push: ScanPush): RawFields {
  return {
    ToUserName: 'gh_qrcode_check',
    FromUserName: 'qrcode-check',
    CreateTime: '1700000000',
    MsgType: 'event',
    Event: push === 'subscribe' ? 'subscribe' : 'SCAN',
    EventKey: push === 'subscribe' ? `${QR_SCENE_PREFIX}${scene}` : scene,
    Ticket: 'qrcode-check-ticket',
  }
}

/** How the scene is written as a handler's `scene:` in YAML. */
const asYaml = (scene: string) => (/^[1-9]\d*$/.test(scene) ? scene : JSON.stringify(scene))

function answerPush(scene: string, push: ScanPush, ctx: AnswerContext): { scan: ScanAnswer; warning?: string } {
  const answer = whatAnswersPush(scanPushFields(scene, push), ctx, `qrcode: the ${push} push`)
  const head = `${WHO[push]} (${push === 'subscribe' ? 'subscribe' : 'SCAN'}, EventKey ${push === 'subscribe' ? QR_SCENE_PREFIX : ''}${scene})`
  const sceneSpecific = answer.steps.some((s) => s.via === 'scene' && !s.skipped && !s.users)
  if (sceneSpecific) return { scan: { push, answer, sceneSpecific, line: `${head}: ${describeAnswer(answer, 'a scan')}` } }

  // Handlers for this scene the walk stopped before: a generic one of a higher priority answers first.
  const tried = new Set(answer.steps.map((s) => s.rule))
  const forScene = ctx.rules.matchType(ctx.account, push, scene).filter((c) => c.match.via === 'scene')
  const shadowed = forScene.filter((c) => !tried.has(c.rule)).map((c) => `handler ${JSON.stringify(c.rule)}`)
  const generic = answer.answered || answer.otherwise.startsWith('the welcome reply')
  const gets = `${answer.answered ? describeChain(answer) : answer.otherwise}${generic ? `, as ${EVERY[push]} gets` : ''}${unansweredNotes(answer)}`
  const never = shadowed.length > 0 ? `; ${shadowed.join(', ')} for this scene ${shadowed.length === 1 ? 'is' : 'are'} never reached` : ''
  const line = `${head}: nothing for this scene: ${gets}${never}`
  const first = answer.steps.at(-1)
  const fix =
    shadowed.length > 0 && first
      ? `${never}: ${first.by} answers first (give ${shadowed.length === 1 ? 'it' : 'them'} a priority above that one's)`
      : forScene.length === 0
        ? `; a handler {type: ${push}, scene: ${asYaml(scene)}} in rules/ answers it`
        : ''
  return { scan: { push, answer, sceneSpecific, line }, warning: `scene ${scene}: nothing for this scene answers ${WHO[push]}, who gets ${gets}${fix}` }
}

/** What each of the two pushes a scan of a code for `scene` sends gets, for the context's account. */
export function answersForScene(scene: string, ctx: AnswerContext): SceneAnswers {
  const subscribe = answerPush(scene, 'subscribe', ctx)
  const scan = answerPush(scene, 'scan', ctx)
  return { subscribe: subscribe.scan, scan: scan.scan, warnings: [subscribe.warning, scan.warning].filter((w): w is string => w !== undefined) }
}
