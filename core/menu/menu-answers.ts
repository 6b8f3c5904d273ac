/**
 * What answers a press of each menu button, asked of the router itself: for each button whose press reaches
 * the engine with its key (KEYED_TYPES), the push WeChat sends for it is built as XML fields, normalized as
 * the server normalizes a push, and handed to the router's own candidate walk for the account's compiled
 * rules (core/route/what-answers.ts). No plugin runs. So `menu check` says what the
 * engine does: a CLICK's key reaches text rules (fromClick), scancode_waitmsg's does not; a catch-all
 * `type: click` handler answers every click; a rule for another account does not; a press nothing takes
 * gets the default reply, or nothing (scancode_push gets no default, as in the engine).
 */
import { suggest } from '../did-you-mean.ts'
import type { RawFields } from '../normalize/message-types.ts'
import { describeAnswer, whatAnswersPush, type Answer, type AnswerContext, type AnswerStep } from '../route/what-answers.ts'
import type { LeafButton } from './menu-file.ts'
import { KEYED_TYPES } from './menu-file.ts'

export { describeAnswer }
export type { AnswerStep }
export type PressAnswer = Answer
export type PressContext = AnswerContext

/** The push WeChat sends when the button is pressed (protocol.md §3), as parsed XML fields. */
export function pushFieldsFor(button: LeafButton): RawFields | undefined {
  if (!KEYED_TYPES.includes(button.type) || button.key === undefined) return undefined
  const base: RawFields = { ToUserName: 'gh_menu_check', FromUserName: 'menu-check', CreateTime: '1700000000', MsgType: 'event', Event: button.type === 'click' ? 'CLICK' : button.type, EventKey: button.key }
  switch (button.type) {
    case 'scancode_push':
    case 'scancode_waitmsg':
      return { ...base, ScanCodeInfo: { ScanType: 'qrcode', ScanResult: 'menu-check' } }
    case 'pic_sysphoto':
    case 'pic_photo_or_album':
    case 'pic_weixin':
      return { ...base, SendPicsInfo: { Count: '1', PicList: { item: { PicMd5Sum: '0' } } } }
    case 'location_select':
      return { ...base, SendLocationInfo: { Location_X: '23.13', Location_Y: '113.26', Scale: '15', Label: 'menu check', Poiname: '' } }
    default:
      return base
  }
}

export function answersFor(button: LeafButton, ctx: PressContext): PressAnswer | undefined {
  const answer = walkCandidates(button, ctx)
  if (!answer || answer.answered) return answer
  const nearKey = nearestAnsweredKey(button, ctx)
  return nearKey === undefined ? answer : { ...answer, nearKey }
}

/**
 * Of the keys the account's rules are written for (exact keywords, handler keys), the one nearest the button's
 * that answers this button's press, asked of the router as the button's own key is: a location_select's key
 * does not reach the text rules, a click handler's key is no scancode's, a rule for some users answers not all.
 */
function nearestAnsweredKey(button: LeafButton, ctx: PressContext): string | undefined {
  const key = button.key!
  // A key the rules are written for is no typo, even when it does not answer (its plugin missing, a media
  // file that cannot be uploaded, users: only): the warning says why, and a near key would mislead.
  const written = ctx.rules.literalKeys(ctx.account)
  if (written.includes(key)) return undefined
  // Within did-you-mean's distance of 2, the lengths differ by 2 at most: the rest need no walk.
  const near = written.filter((k) => k !== key && Math.abs(k.length - key.length) <= 2 && walkCandidates({ ...button, key: k }, ctx)?.answered)
  return suggest(key, near)
}

function walkCandidates(button: LeafButton, ctx: PressContext): PressAnswer | undefined {
  const fields = pushFieldsFor(button)
  return fields && whatAnswersPush(fields, ctx, `menu check: the ${button.type} push`)
}
