/**
 * RawFields (from parseXml) -> the flat typed InboundMessage (protocol.md §3, §7: every event is its own
 * kind). Rules, also in docs/messages.md:
 * - ToUserName, FromUserName, MsgType absent (or not text), or CreateTime absent or not an integer:
 *   MISSING_FIELD, the reason naming the field. Every member, `unknown` included, carries these.
 * - MsgType matched case-insensitively; for MsgType=event, Event matched case-insensitively (the
 *   platform sends both CLICK and click). MsgType=event without Event: `unknown`, reason says so.
 * - A known type with a required field absent, text where an element was expected (or the reverse), or
 *   a number that does not parse: the message becomes `unknown` with every field and a `reason`. It is
 *   never dropped and never carries NaN.
 * - An optional field absent is `undefined`; an optional number that is empty ('') is `undefined` too.
 */
import { fail, ok, type Result } from '../errors.ts'
import type {
  ArticleUrlEntry,
  CopyrightCheckEntry,
  FromArticleFields,
  InboundMessage,
  MassSendJobFinishEvent,
  MessageKind,
  PublishJobFinishEvent,
  RawFields,
  RawValue,
  SubscribeMsgChangeEntry,
  SubscribeMsgPopupEntry,
  SubscribeMsgSentEntry,
  UnknownMessage,
} from './message-types.ts'
import { floatOf, intOf, listOf, objectOf, textOf } from './read-fields.ts'
import { quotedShort } from '../shown-text.ts'

/** Every kind the engine reads into its own member: user messages and events alike (all but `unknown`). */
type KnownKind = Exclude<MessageKind, 'unknown'>

/** MsgType (lowercased) -> kind, for user messages. Null prototype: `__proto__` or `constructor` map to nothing. */
const KIND_OF_MSG_TYPE: Readonly<Record<string, KnownKind | undefined>> = Object.assign(Object.create(null), {
  text: 'text',
  image: 'image',
  voice: 'voice',
  video: 'video',
  shortvideo: 'shortvideo',
  location: 'location',
  link: 'link',
  file: 'file',
  miniprogrampage: 'miniprogrampage',
} satisfies Record<string, KnownKind>)

/** Event (lowercased) -> kind. */
const KIND_OF_EVENT: Readonly<Record<string, KnownKind | undefined>> = Object.assign(Object.create(null), {
  subscribe: 'subscribe',
  unsubscribe: 'unsubscribe',
  scan: 'scan',
  location: 'location_report',
  click: 'click',
  view: 'view',
  scancode_push: 'scancode_push',
  scancode_waitmsg: 'scancode_waitmsg',
  pic_sysphoto: 'pic_sysphoto',
  pic_photo_or_album: 'pic_photo_or_album',
  pic_weixin: 'pic_weixin',
  location_select: 'location_select',
  view_miniprogram: 'view_miniprogram',
  masssendjobfinish: 'masssend_job_finish',
  templatesendjobfinish: 'template_send_job_finish',
  subscribe_msg_popup_event: 'subscribe_msg_popup',
  subscribe_msg_change_event: 'subscribe_msg_change',
  subscribe_msg_sent_event: 'subscribe_msg_sent',
  publishjobfinish: 'publish_job_finish',
  kf_create_session: 'kf_create_session',
  kf_close_session: 'kf_close_session',
  kf_switch_session: 'kf_switch_session',
  card_pass_check: 'card_pass_check',
  card_not_pass_check: 'card_not_pass_check',
  user_get_card: 'user_get_card',
  user_gifting_card: 'user_gifting_card',
  user_del_card: 'user_del_card',
  user_consume_card: 'user_consume_card',
  user_pay_from_pay_cell: 'user_pay_from_pay_cell',
  user_view_card: 'user_view_card',
  user_enter_session_from_card: 'user_enter_session_from_card',
  update_member_card: 'update_member_card',
  card_sku_remind: 'card_sku_remind',
  card_pay_order: 'card_pay_order',
  submit_membercard_user_info: 'submit_membercard_user_info',
  qualification_verify_success: 'qualification_verify_success',
  qualification_verify_fail: 'qualification_verify_fail',
  naming_verify_success: 'naming_verify_success',
  naming_verify_fail: 'naming_verify_fail',
  annual_renew: 'annual_renew',
  verify_expired: 'verify_expired',
} satisfies Record<string, KnownKind>)

/** A follow's EventKey after a parameter QR code: `qrscene_<scene>` (qrcode create makes them). */
export const QR_SCENE_PREFIX = 'qrscene_'

/** The QR scene of a follow's EventKey (without `qrscene_`), undefined for a follow without one. */
export function qrSceneOf(eventKey: string | undefined): string | undefined {
  return eventKey !== undefined && eventKey.startsWith(QR_SCENE_PREFIX) ? eventKey.slice(QR_SCENE_PREFIX.length) : undefined
}

const NO_FIELDS: RawFields = Object.freeze(Object.create(null) as RawFields)

/** The first reason the member being built does not fit; '' while it fits. One synchronous call at a time. */
let problem = ''

interface Base {
  toUser: string
  fromUser: string
  createTime: number
  raw: RawFields
}

export function normalizeMessage(raw: RawFields): Result<InboundMessage> {
  const toUser = raw.ToUserName
  if (typeof toUser !== 'string') return missing('ToUserName', toUser)
  const fromUser = raw.FromUserName
  if (typeof fromUser !== 'string') return missing('FromUserName', fromUser)
  const badId = idProblem('ToUserName', toUser) ?? idProblem('FromUserName', fromUser)
  if (badId) return fail('MISSING_FIELD', badId)
  const msgType = raw.MsgType
  if (typeof msgType !== 'string') return missing('MsgType', msgType)
  const createTime = intOf(raw.CreateTime)
  if (createTime === undefined) {
    return raw.CreateTime === undefined
      ? fail('MISSING_FIELD', 'CreateTime is absent')
      : fail('MISSING_FIELD', 'CreateTime is not an integer')
  }
  const base: Base = { toUser, fromUser, createTime, raw }
  // Trimmed for the lookup only (the fields keep what was received): WeChat wraps the names in CDATA, but a
  // push written by hand or by a tool (pretty-printed, `<MsgType>\n  text\n</MsgType>`) was `unknown` and
  // answered by nothing its rules say.
  const type = msgType.trim().toLowerCase()
  let kind: KnownKind | undefined
  let event: string | undefined
  if (type === 'event') {
    const ev = raw.Event
    if (typeof ev !== 'string') return ok(unknownOf(base, msgType, undefined, ev === undefined ? 'Event is absent' : 'Event is not text'))
    event = ev
    kind = KIND_OF_EVENT[ev.trim().toLowerCase()]
  } else {
    kind = KIND_OF_MSG_TYPE[type]
  }
  if (kind === undefined) return ok(unknownOf(base, msgType, event, undefined))
  problem = ''
  const message = buildMember(kind, base, event ?? '')
  if (problem !== '') return ok(unknownOf(base, msgType, event, problem))
  return ok(message)
}

/**
 * Longest ToUserName / FromUserName taken. An OpenID has 28 characters, a gh_ id 15, an AppID 18: room to
 * spare, and none for what no platform sends. Every message carries its sender into the dedup key, the user's
 * lock, the session, the message log's row and log lines; a megabyte there (a signed push anyone who saw
 * one plaintext URL can make) became a megabyte in each (a robustness review).
 */
export const MAX_ID_LENGTH = 128

/** Why an id field cannot name an account or a user (empty or blank: every such message one user), or undefined. */
function idProblem(name: string, value: string): string | undefined {
  if (value.length === 0) return `${name} is empty`
  if (value.trim().length === 0) return `${name} is blank (only whitespace)`
  if (value.length > MAX_ID_LENGTH) return `${name} is ${value.length} characters, more than the ${MAX_ID_LENGTH} an id can have`
  return undefined
}

function missing(name: string, value: RawValue | undefined): Result<never> {
  return fail('MISSING_FIELD', value === undefined ? `${name} is absent` : `${name} is not text`)
}

function unknownOf(b: Base, msgType: string, event: string | undefined, reason: string | undefined): UnknownMessage {
  const raw = b.raw
  return {
    kind: 'unknown',
    ...b,
    msgType,
    // Only on an event push: plugins tell events from a user's messages by `'event' in message` (docs/
    // plugins.md), and a user's message of a type unknown here, holding the key, was passed on by a dialogue
    // as an event and went unanswered (a routing review).
    ...(event !== undefined || msgType.trim().toLowerCase() === 'event' ? { event } : undefined),
    msgId: textOf(raw.MsgId) ?? textOf(raw.MsgID),
    reason,
    fields: raw,
  }
}

function buildMember(kind: KnownKind, b: Base, event: string): InboundMessage {
  const r = b.raw
  switch (kind) {
    case 'text':
      return { kind, ...b, msgId: optId(r, 'MsgId'), content: str(r, 'Content'), bizmsgmenuid: optStr(r, 'bizmsgmenuid'), ...fromArticle(r) }
    case 'image':
      return { kind, ...b, msgId: optId(r, 'MsgId'), picUrl: str(r, 'PicUrl'), mediaId: str(r, 'MediaId'), ...fromArticle(r) }
    case 'voice':
      return {
        kind,
        ...b,
        msgId: optId(r, 'MsgId'),
        mediaId: str(r, 'MediaId'),
        format: str(r, 'Format'),
        recognition: optStr(r, 'Recognition'),
        mediaId16K: optStr(r, 'MediaId16K'),
        ...fromArticle(r),
      }
    case 'video':
    case 'shortvideo':
      return { kind, ...b, msgId: optId(r, 'MsgId'), mediaId: str(r, 'MediaId'), thumbMediaId: str(r, 'ThumbMediaId'), ...fromArticle(r) }
    case 'location':
      return {
        kind,
        ...b,
        msgId: optId(r, 'MsgId'),
        locationX: float(r, 'Location_X'),
        locationY: float(r, 'Location_Y'),
        scale: float(r, 'Scale'),
        label: str(r, 'Label'),
        ...fromArticle(r),
      }
    case 'link':
      return {
        kind,
        ...b,
        msgId: optId(r, 'MsgId'),
        title: str(r, 'Title'),
        description: str(r, 'Description'),
        url: str(r, 'Url'),
        ...fromArticle(r),
      }
    case 'file':
      return {
        kind,
        ...b,
        msgId: optId(r, 'MsgId'),
        title: str(r, 'Title'),
        description: str(r, 'Description'),
        fileKey: str(r, 'FileKey'),
        fileMd5: str(r, 'FileMd5'),
        fileTotalLen: int(r, 'FileTotalLen'),
      }
    case 'miniprogrampage':
      return {
        kind,
        ...b,
        msgId: optId(r, 'MsgId'),
        appId: str(r, 'AppId'),
        title: str(r, 'Title'),
        pagePath: str(r, 'PagePath'),
        thumbUrl: str(r, 'ThumbUrl'),
        thumbMediaId: str(r, 'ThumbMediaId'),
      }
    case 'subscribe': {
      const eventKey = optStr(r, 'EventKey')
      return { kind, ...b, event, eventKey, scene: qrSceneOf(eventKey), ticket: optStr(r, 'Ticket') }
    }
    case 'unsubscribe':
      return { kind, ...b, event }
    case 'scan': {
      const eventKey = str(r, 'EventKey')
      return { kind, ...b, event, eventKey, scene: eventKey, ticket: str(r, 'Ticket') }
    }
    case 'location_report':
      return {
        kind,
        ...b,
        event,
        latitude: float(r, 'Latitude'),
        longitude: float(r, 'Longitude'),
        precision: float(r, 'Precision'),
      }
    case 'click':
      return { kind, ...b, event, eventKey: str(r, 'EventKey') }
    case 'view':
      return { kind, ...b, event, eventKey: str(r, 'EventKey'), menuId: optStr(r, 'MenuId') }
    case 'scancode_push':
    case 'scancode_waitmsg': {
      const info = obj(r, 'ScanCodeInfo')
      return {
        kind,
        ...b,
        event,
        eventKey: str(r, 'EventKey'),
        scanType: str(info, 'ScanType'),
        scanResult: str(info, 'ScanResult'),
      }
    }
    case 'pic_sysphoto':
    case 'pic_photo_or_album':
    case 'pic_weixin': {
      const info = obj(r, 'SendPicsInfo')
      return { kind, ...b, event, eventKey: str(r, 'EventKey'), count: int(info, 'Count'), picMd5Sums: readPicMd5Sums(info) }
    }
    case 'location_select': {
      const info = obj(r, 'SendLocationInfo')
      return {
        kind,
        ...b,
        event,
        eventKey: str(r, 'EventKey'),
        locationX: float(info, 'Location_X'),
        locationY: float(info, 'Location_Y'),
        scale: float(info, 'Scale'),
        label: str(info, 'Label'),
        // The seeds say it "may be empty", and WeChat sends it as an empty element; one left out is the same
        // empty name, not a misfit that would turn the whole event into `unknown`.
        poiname: optStr(info, 'Poiname') ?? '',
      }
    }
    case 'view_miniprogram':
      return { kind, ...b, event, eventKey: str(r, 'EventKey'), menuId: optStr(r, 'MenuId') }
    case 'masssend_job_finish':
      return {
        kind,
        ...b,
        event,
        msgId: str(r, 'MsgID'),
        status: str(r, 'Status'),
        totalCount: int(r, 'TotalCount'),
        filterCount: int(r, 'FilterCount'),
        sentCount: int(r, 'SentCount'),
        errorCount: int(r, 'ErrorCount'),
        copyrightCheckResult: readCopyrightCheck(r),
        articleUrlResult: readArticleUrlResult(r),
      }
    case 'template_send_job_finish':
      return { kind, ...b, event, msgId: str(r, 'MsgID'), status: str(r, 'Status') }
    case 'subscribe_msg_popup':
      return { kind, ...b, event, list: readPopupList(obj(r, 'SubscribeMsgPopupEvent')) }
    case 'subscribe_msg_change':
      return { kind, ...b, event, list: readChangeList(obj(r, 'SubscribeMsgChangeEvent')) }
    case 'subscribe_msg_sent':
      return { kind, ...b, event, list: readSentList(obj(r, 'SubscribeMsgSentEvent')) }
    case 'publish_job_finish': {
      const info = obj(r, 'PublishEventInfo')
      return {
        kind,
        ...b,
        event,
        publishId: str(info, 'publish_id'),
        publishStatus: int(info, 'publish_status'),
        articleId: optStr(info, 'article_id'),
        articleDetail: readArticleDetail(info),
        failIdx: readIntList(info, 'fail_idx'),
      }
    }
    case 'kf_create_session':
    case 'kf_close_session':
      return { kind, ...b, event, kfAccount: str(r, 'KfAccount') }
    case 'kf_switch_session':
      return { kind, ...b, event, fromKfAccount: str(r, 'FromKfAccount'), toKfAccount: str(r, 'ToKfAccount') }
    case 'card_pass_check':
    case 'card_not_pass_check':
      return { kind, ...b, event, cardId: str(r, 'CardId'), refuseReason: optStr(r, 'RefuseReason') }
    case 'user_get_card':
      return {
        kind,
        ...b,
        event,
        cardId: str(r, 'CardId'),
        userCardCode: str(r, 'UserCardCode'),
        isGiveByFriend: int(r, 'IsGiveByFriend'),
        friendUserName: optStr(r, 'FriendUserName'),
        oldUserCardCode: optStr(r, 'OldUserCardCode'),
        outerId: optInt(r, 'OuterId'),
        outerStr: optStr(r, 'OuterStr'),
        isRestoreMemberCard: optInt(r, 'IsRestoreMemberCard'),
        isRecommendByFriend: optInt(r, 'IsRecommendByFriend'),
        unionId: optStr(r, 'UnionId'),
      }
    case 'user_gifting_card':
      return {
        kind,
        ...b,
        event,
        cardId: str(r, 'CardId'),
        userCardCode: str(r, 'UserCardCode'),
        friendUserName: str(r, 'FriendUserName'),
        isReturnBack: int(r, 'IsReturnBack'),
        isChatRoom: int(r, 'IsChatRoom'),
      }
    case 'user_del_card':
    case 'user_enter_session_from_card':
    case 'submit_membercard_user_info':
      return { kind, ...b, event, cardId: str(r, 'CardId'), userCardCode: str(r, 'UserCardCode') }
    case 'user_consume_card':
      return {
        kind,
        ...b,
        event,
        cardId: str(r, 'CardId'),
        userCardCode: str(r, 'UserCardCode'),
        consumeSource: str(r, 'ConsumeSource'),
        locationName: optStr(r, 'LocationName'),
        staffOpenId: optStr(r, 'StaffOpenId'),
        verifyCode: optStr(r, 'VerifyCode'),
        remarkAmount: optStr(r, 'RemarkAmount'),
        outerStr: optStr(r, 'OuterStr'),
      }
    case 'user_pay_from_pay_cell':
      return {
        kind,
        ...b,
        event,
        cardId: str(r, 'CardId'),
        userCardCode: str(r, 'UserCardCode'),
        transId: str(r, 'TransId'),
        locationId: str(r, 'LocationId'),
        fee: int(r, 'Fee'),
        originalFee: int(r, 'OriginalFee'),
      }
    case 'user_view_card':
      return { kind, ...b, event, cardId: str(r, 'CardId'), userCardCode: str(r, 'UserCardCode'), outerStr: optStr(r, 'OuterStr') }
    case 'update_member_card':
      return {
        kind,
        ...b,
        event,
        cardId: str(r, 'CardId'),
        userCardCode: str(r, 'UserCardCode'),
        modifyBonus: int(r, 'ModifyBonus'),
        modifyBalance: int(r, 'ModifyBalance'),
      }
    case 'card_sku_remind':
      return { kind, ...b, event, cardId: str(r, 'CardId'), detail: str(r, 'Detail') }
    case 'card_pay_order':
      return {
        kind,
        ...b,
        event,
        orderId: str(r, 'OrderId'),
        status: str(r, 'Status'),
        createOrderTime: int(r, 'CreateOrderTime'),
        payFinishTime: int(r, 'PayFinishTime'),
        desc: str(r, 'Desc'),
        freeCoinCount: int(r, 'FreeCoinCount'),
        payCoinCount: int(r, 'PayCoinCount'),
        refundFreeCoinCount: int(r, 'RefundFreeCoinCount'),
        refundPayCoinCount: int(r, 'RefundPayCoinCount'),
        orderType: str(r, 'OrderType'),
        memo: str(r, 'Memo'),
        receiptInfo: str(r, 'ReceiptInfo'),
      }
    case 'qualification_verify_success':
    case 'naming_verify_success':
    case 'annual_renew':
    case 'verify_expired':
      return { kind, ...b, event, expiredTime: int(r, 'ExpiredTime') }
    case 'qualification_verify_fail':
    case 'naming_verify_fail':
      return { kind, ...b, event, failTime: int(r, 'FailTime'), failReason: str(r, 'FailReason') }
    default: {
      const unhandled: never = kind
      throw new Error(`normalizeMessage: no builder for kind ${String(unhandled)}`)
    }
  }
}

// --- field readers: on a misfit they record the first problem and return a placeholder the caller discards.

function note(reason: string): void {
  if (problem === '') problem = reason
}

function str(fields: RawFields, name: string): string {
  const value = fields[name]
  if (typeof value === 'string') return value
  note(value === undefined ? `${name} is absent` : `${name} is not text`)
  return ''
}

function optStr(fields: RawFields, name: string): string | undefined {
  const value = fields[name]
  if (value === undefined || typeof value === 'string') return value
  note(`${name} is not text`)
  return undefined
}

/**
 * An id the platform always sends but a hand-written push may lack (seeds/003: WeEngine's own sample text
 * message has no MsgId, and WeEngine reads it as ''): absent or empty, undefined; nested, a misfit.
 */
function optId(fields: RawFields, name: string): string | undefined {
  const value = optStr(fields, name)
  return value === '' ? undefined : value
}

function int(fields: RawFields, name: string): number {
  const value = fields[name]
  const n = intOf(value)
  if (n !== undefined) return n
  note(value === undefined ? `${name} is absent` : `${name} is not an integer: ${describe(value)}`)
  return 0
}

function optInt(fields: RawFields, name: string): number | undefined {
  const value = fields[name]
  if (value === undefined || value === '') return undefined
  const n = intOf(value)
  if (n === undefined) note(`${name} is not an integer: ${describe(value)}`)
  return n
}

function float(fields: RawFields, name: string): number {
  const value = fields[name]
  const n = floatOf(value)
  if (n !== undefined) return n
  note(value === undefined ? `${name} is absent` : `${name} is not a number: ${describe(value)}`)
  return 0
}

function obj(fields: RawFields, name: string): RawFields {
  const value = fields[name]
  const o = objectOf(value)
  if (o !== undefined) return o
  note(value === undefined ? `${name} is absent` : `${name} has no child elements`)
  return NO_FIELDS
}

/**
 * An optional container: absent or empty -> undefined; text with content -> a problem. Empty includes
 * whitespace alone (`<PicList>\n</PicList>`, as a pretty-printed push has it), which xml-js also reads as
 * empty: it made a picture event with no pictures `unknown` (a protocol review).
 */
function optObj(fields: RawFields, name: string): RawFields | undefined {
  const value = fields[name]
  if (value === undefined || (typeof value === 'string' && value.trim() === '')) return undefined
  const o = objectOf(value)
  if (o === undefined) note(`${name} has no child elements`)
  return o
}

/** One entry of a repeated element; its name is only for the reason. */
function entry(value: RawValue, name: string): RawFields {
  const o = objectOf(value)
  if (o !== undefined) return o
  note(`${name} has no child elements`)
  return NO_FIELDS
}

/** MsgDataId and Idx of a user message sent from an article (message-types.ts FromArticleFields). */
function fromArticle(r: RawFields): FromArticleFields {
  return { msgDataId: optStr(r, 'MsgDataId'), idx: optInt(r, 'Idx') }
}

function describe(value: RawValue): string {
  return typeof value === 'string' ? quotedShort(value, 40) : 'an element'
}

// --- repeated structures: always arrays, one element is an array of one.

function readPicMd5Sums(info: RawFields): string[] {
  const picList = optObj(info, 'PicList')
  const out: string[] = []
  if (picList === undefined) return out
  for (const item of listOf(picList.item)) out.push(str(entry(item, 'item'), 'PicMd5Sum'))
  return out
}

function readCopyrightCheck(r: RawFields): MassSendJobFinishEvent['copyrightCheckResult'] {
  const result = optObj(r, 'CopyrightCheckResult')
  if (result === undefined) return undefined
  const resultList: CopyrightCheckEntry[] = []
  const list = optObj(result, 'ResultList')
  if (list !== undefined) {
    for (const item of listOf(list.item)) {
      const e = entry(item, 'item')
      resultList.push({
        articleIdx: int(e, 'ArticleIdx'),
        userDeclareState: int(e, 'UserDeclareState'),
        auditState: int(e, 'AuditState'),
        originalArticleUrl: str(e, 'OriginalArticleUrl'),
        originalArticleType: int(e, 'OriginalArticleType'),
        canReprint: int(e, 'CanReprint'),
        needReplaceContent: int(e, 'NeedReplaceContent'),
        needShowReprintSource: int(e, 'NeedShowReprintSource'),
      })
    }
  }
  return { count: int(result, 'Count'), resultList, checkState: int(result, 'CheckState') }
}

function readArticleUrlResult(r: RawFields): MassSendJobFinishEvent['articleUrlResult'] {
  const result = optObj(r, 'ArticleUrlResult')
  if (result === undefined) return undefined
  const resultList: ArticleUrlEntry[] = []
  const list = optObj(result, 'ResultList')
  if (list !== undefined) {
    for (const item of listOf(list.item)) {
      const e = entry(item, 'item')
      resultList.push({ articleIdx: int(e, 'ArticleIdx'), articleUrl: str(e, 'ArticleUrl') })
    }
  }
  return { count: int(result, 'Count'), resultList }
}

function readPopupList(container: RawFields): SubscribeMsgPopupEntry[] {
  const out: SubscribeMsgPopupEntry[] = []
  for (const item of listOf(container.List)) {
    const e = entry(item, 'List')
    out.push({
      templateId: str(e, 'TemplateId'),
      subscribeStatusString: str(e, 'SubscribeStatusString'),
      popupScene: int(e, 'PopupScene'),
    })
  }
  return out
}

function readChangeList(container: RawFields): SubscribeMsgChangeEntry[] {
  const out: SubscribeMsgChangeEntry[] = []
  for (const item of listOf(container.List)) {
    const e = entry(item, 'List')
    out.push({ templateId: str(e, 'TemplateId'), subscribeStatusString: str(e, 'SubscribeStatusString') })
  }
  return out
}

function readSentList(container: RawFields): SubscribeMsgSentEntry[] {
  const out: SubscribeMsgSentEntry[] = []
  for (const item of listOf(container.List)) {
    const e = entry(item, 'List')
    out.push({
      templateId: str(e, 'TemplateId'),
      msgId: str(e, 'MsgID'),
      errorCode: int(e, 'ErrorCode'),
      errorStatus: str(e, 'ErrorStatus'),
    })
  }
  return out
}

function readArticleDetail(info: RawFields): PublishJobFinishEvent['articleDetail'] {
  const detail = optObj(info, 'article_detail')
  const items: PublishJobFinishEvent['articleDetail']['items'] = []
  if (detail === undefined) return { count: 0, items }
  for (const item of listOf(detail.item)) {
    const e = entry(item, 'item')
    items.push({ idx: int(e, 'idx'), articleUrl: str(e, 'article_url') })
  }
  return { count: int(detail, 'count'), items }
}

function readIntList(fields: RawFields, name: string): number[] {
  const out: number[] = []
  for (const value of listOf(fields[name])) {
    const n = intOf(value)
    if (n === undefined) note(`${name} is not an integer: ${describe(value)}`)
    else out.push(n)
  }
  return out
}
