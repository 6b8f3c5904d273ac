/**
 * The flat typed record every WeChat push is normalized into (protocol.md §3).
 * One member per message type and per event; the discriminant is `kind`.
 *
 * Conventions (tests hold them):
 * - Field names are the XML names in lowerCamelCase (`FromUserName` -> `fromUser` is the one rename, with
 *   `toUser`, and `Location_X` -> `locationX`).
 * - MsgId, MsgID and every other 64-bit id are strings: they exceed 2^53.
 * - Numbers that are numbers (CreateTime, coordinates, scale, counts, status codes) are numbers.
 * - Repeated elements are arrays, always: one element is an array of one.
 * - `raw` keeps every field as parsed (strings, nested objects, arrays), so nothing the platform
 *   adds later is lost; an unknown MsgType/Event becomes `kind: 'unknown'` and is still routable.
 *
 * Every member and the XML field each of its fields comes from: docs/messages.md.
 * An optional field the push lacks is present with the value `undefined`.
 */

/** A parsed XML element: text, or nested elements (repeated names become arrays). */
export type RawValue = string | RawFields | RawValue[]
export interface RawFields {
  [name: string]: RawValue
}

export interface MessageBase {
  /** The account's original id (gh_...). */
  toUser: string
  /** The user's OpenID. */
  fromUser: string
  /** Unix seconds. */
  createTime: number
  /** Every field of the push as parsed, the original XML names as keys. */
  raw: RawFields
}

export interface UserMessageBase extends MessageBase {
  /**
   * MsgId, a 64-bit id as a decimal string. WeChat sends it with every message a user sends; undefined when a
   * push lacks it (or has it empty), as a hand-written one may (WeEngine's own sample has none): the message
   * is still its type, and its retries are still recognised (core/dedup/dedup-key.ts keys it as an event).
   */
  msgId?: string
}

export interface EventBase extends MessageBase {
  /** The Event field exactly as received (e.g. `subscribe`, `CLICK`). */
  event: string
}

// ---------------------------------------------------------------------------------------------------
// Messages a user sends (protocol.md §3, MsgType != event). Field names follow the XML (see header).

/**
 * Set when the message was sent from an article (消息如果来自文章时才有): the platform's current samples of
 * all seven user messages (接收普通消息: text, image, voice, video, shortvideo, location, link) end with
 * `<MsgDataId>` and `<Idx>`. Absent otherwise.
 */
export interface FromArticleFields {
  /** MsgDataId, the article's data id: an id, so a string. */
  msgDataId?: string
  /** Idx: which article of a multi-article post, from 1. */
  idx?: number
}

export interface TextMessage extends UserMessageBase, FromArticleFields {
  kind: 'text'
  content: string
  /** Set when the user tapped a menu-message option (`bizmsgmenuid`); an id, so a string. */
  bizmsgmenuid?: string
}

export interface ImageMessage extends UserMessageBase, FromArticleFields {
  kind: 'image'
  picUrl: string
  mediaId: string
}

export interface VoiceMessage extends UserMessageBase, FromArticleFields {
  kind: 'voice'
  mediaId: string
  /** amr, speex, ... */
  format: string
  /** Speech-to-text result, only when the account turned recognition on. */
  recognition?: string
  /** MediaId16K: the same voice at a 16 kHz sample rate (MediaId is 8 kHz when Format is amr); in the platform's current sample. */
  mediaId16K?: string
}

export interface VideoMessage extends UserMessageBase, FromArticleFields {
  kind: 'video'
  mediaId: string
  thumbMediaId: string
}

export interface ShortVideoMessage extends UserMessageBase, FromArticleFields {
  kind: 'shortvideo'
  mediaId: string
  thumbMediaId: string
}

export interface LocationMessage extends UserMessageBase, FromArticleFields {
  kind: 'location'
  /** Latitude (Location_X). */
  locationX: number
  /** Longitude (Location_Y). */
  locationY: number
  scale: number
  label: string
}

export interface LinkMessage extends UserMessageBase, FromArticleFields {
  kind: 'link'
  title: string
  description: string
  url: string
}

export interface FileMessage extends UserMessageBase {
  kind: 'file'
  title: string
  description: string
  fileKey: string
  fileMd5: string
  /** Bytes. */
  fileTotalLen: number
}

export interface MiniProgramPageMessage extends UserMessageBase {
  kind: 'miniprogrampage'
  appId: string
  title: string
  pagePath: string
  thumbUrl: string
  thumbMediaId: string
}

// ---------------------------------------------------------------------------------------------------
// Events (MsgType=event). `kind` is the Event lowercased, except where the name says more than the
// platform's (LOCATION -> location_report, MASSSENDJOBFINISH -> masssend_job_finish, ...).

export interface SubscribeEvent extends EventBase {
  kind: 'subscribe'
  /** EventKey exactly as received (`qrscene_123` after a parameter QR code; often '' or absent). */
  eventKey?: string
  /** The QR scene, EventKey without its `qrscene_` prefix; absent for a plain follow. */
  scene?: string
  /** The QR code's ticket, when subscribed by scanning one. */
  ticket?: string
}

export interface UnsubscribeEvent extends EventBase {
  kind: 'unsubscribe'
}

/** An already-subscribed user scanned a parameter QR code. */
export interface ScanEvent extends EventBase {
  kind: 'scan'
  /** EventKey exactly as received, as subscribe, click and view have it. */
  eventKey: string
  /** The scene id or scene string: EventKey, which has no prefix here. */
  scene: string
  ticket: string
}

/** The periodic location report (Event LOCATION), not a location message. */
export interface LocationReportEvent extends EventBase {
  kind: 'location_report'
  latitude: number
  longitude: number
  precision: number
}

export interface ClickEvent extends EventBase {
  kind: 'click'
  eventKey: string
}

export interface ViewEvent extends EventBase {
  kind: 'view'
  /** The URL opened. */
  eventKey: string
  menuId?: string
}

export interface ScanCodePushEvent extends EventBase {
  kind: 'scancode_push'
  eventKey: string
  /** ScanCodeInfo.ScanType, usually `qrcode`. */
  scanType: string
  /** ScanCodeInfo.ScanResult. */
  scanResult: string
}

export interface ScanCodeWaitMsgEvent extends EventBase {
  kind: 'scancode_waitmsg'
  eventKey: string
  scanType: string
  scanResult: string
}

interface PicEventFields {
  eventKey: string
  /** SendPicsInfo.Count. */
  count: number
  /** SendPicsInfo.PicList.item[].PicMd5Sum, in order. */
  picMd5Sums: string[]
}

export interface PicSysPhotoEvent extends EventBase, PicEventFields {
  kind: 'pic_sysphoto'
}

export interface PicPhotoOrAlbumEvent extends EventBase, PicEventFields {
  kind: 'pic_photo_or_album'
}

export interface PicWeixinEvent extends EventBase, PicEventFields {
  kind: 'pic_weixin'
}

/** From SendLocationInfo. */
export interface LocationSelectEvent extends EventBase {
  kind: 'location_select'
  eventKey: string
  locationX: number
  locationY: number
  scale: number
  label: string
  /** May be ''. */
  poiname: string
}

export interface ViewMiniprogramEvent extends EventBase {
  kind: 'view_miniprogram'
  /** The mini program page path. */
  eventKey: string
  /** As on `view`: a push without it is still this event. */
  menuId?: string
}

export interface CopyrightCheckEntry {
  articleIdx: number
  userDeclareState: number
  auditState: number
  originalArticleUrl: string
  originalArticleType: number
  canReprint: number
  needReplaceContent: number
  needShowReprintSource: number
}

export interface ArticleUrlEntry {
  articleIdx: number
  articleUrl: string
}

export interface MassSendJobFinishEvent extends EventBase {
  kind: 'masssend_job_finish'
  /** MsgID of the mass send. */
  msgId: string
  /** `send success`, `send fail`, `err(<code>)`. */
  status: string
  totalCount: number
  filterCount: number
  sentCount: number
  errorCount: number
  copyrightCheckResult?: { count: number; resultList: CopyrightCheckEntry[]; checkState: number }
  articleUrlResult?: { count: number; resultList: ArticleUrlEntry[] }
}

export interface TemplateSendJobFinishEvent extends EventBase {
  kind: 'template_send_job_finish'
  msgId: string
  /** `success`, `failed:user block`, `failed: system failed`. */
  status: string
}

export interface SubscribeMsgPopupEntry {
  templateId: string
  /** `accept` or `reject`. */
  subscribeStatusString: string
  popupScene: number
}

export interface SubscribeMsgChangeEntry {
  templateId: string
  subscribeStatusString: string
}

export interface SubscribeMsgSentEntry {
  templateId: string
  msgId: string
  errorCode: number
  errorStatus: string
}

export interface SubscribeMsgPopupEvent extends EventBase {
  kind: 'subscribe_msg_popup'
  /** SubscribeMsgPopupEvent.List, one entry per template. */
  list: SubscribeMsgPopupEntry[]
}

export interface SubscribeMsgChangeEvent extends EventBase {
  kind: 'subscribe_msg_change'
  list: SubscribeMsgChangeEntry[]
}

export interface SubscribeMsgSentEvent extends EventBase {
  kind: 'subscribe_msg_sent'
  list: SubscribeMsgSentEntry[]
}

export interface PublishJobFinishEvent extends EventBase {
  kind: 'publish_job_finish'
  publishId: string
  /** 0 success, 1 publishing, 2 original-check failed, 3 normal failure, 4 platform review failed, ... */
  publishStatus: number
  articleId?: string
  /** `{ count: 0, items: [] }` when the push has no article_detail (a failed publish). */
  articleDetail: { count: number; items: { idx: number; articleUrl: string }[] }
  /** Indexes of the failed articles; [] when none. */
  failIdx: number[]
}

export interface KfCreateSessionEvent extends EventBase {
  kind: 'kf_create_session'
  kfAccount: string
}

export interface KfCloseSessionEvent extends EventBase {
  kind: 'kf_close_session'
  kfAccount: string
}

export interface KfSwitchSessionEvent extends EventBase {
  kind: 'kf_switch_session'
  fromKfAccount: string
  toKfAccount: string
}

// Card (coupon / membership) events: the kind is the Event name; CardId is on all but card_pay_order.

export interface CardPassCheckEvent extends EventBase {
  kind: 'card_pass_check'
  cardId: string
  refuseReason?: string
}

export interface CardNotPassCheckEvent extends EventBase {
  kind: 'card_not_pass_check'
  cardId: string
  refuseReason?: string
}

export interface UserGetCardEvent extends EventBase {
  kind: 'user_get_card'
  cardId: string
  userCardCode: string
  /** 1 when a friend gave the card. */
  isGiveByFriend: number
  friendUserName?: string
  oldUserCardCode?: string
  outerId?: number
  outerStr?: string
  isRestoreMemberCard?: number
  /** 1 when the user took the card on a friend's recommendation (IsRecommendByFriend, in the platform's sample push). */
  isRecommendByFriend?: number
  unionId?: string
}

export interface UserGiftingCardEvent extends EventBase {
  kind: 'user_gifting_card'
  cardId: string
  userCardCode: string
  friendUserName: string
  isReturnBack: number
  isChatRoom: number
}

export interface UserDelCardEvent extends EventBase {
  kind: 'user_del_card'
  cardId: string
  userCardCode: string
}

export interface UserConsumeCardEvent extends EventBase {
  kind: 'user_consume_card'
  cardId: string
  userCardCode: string
  /** FROM_API, FROM_MOBILE_HELPER, ... */
  consumeSource: string
  locationName?: string
  staffOpenId?: string
  verifyCode?: string
  remarkAmount?: string
  outerStr?: string
}

export interface UserPayFromPayCellEvent extends EventBase {
  kind: 'user_pay_from_pay_cell'
  cardId: string
  userCardCode: string
  transId: string
  locationId: string
  /** Cents actually paid. */
  fee: number
  /** Cents due. */
  originalFee: number
}

export interface UserViewCardEvent extends EventBase {
  kind: 'user_view_card'
  cardId: string
  userCardCode: string
  outerStr?: string
}

export interface UserEnterSessionFromCardEvent extends EventBase {
  kind: 'user_enter_session_from_card'
  cardId: string
  userCardCode: string
}

export interface UpdateMemberCardEvent extends EventBase {
  kind: 'update_member_card'
  cardId: string
  userCardCode: string
  modifyBonus: number
  modifyBalance: number
}

export interface CardSkuRemindEvent extends EventBase {
  kind: 'card_sku_remind'
  cardId: string
  detail: string
}

export interface CardPayOrderEvent extends EventBase {
  kind: 'card_pay_order'
  orderId: string
  /** ORDER_STATUS_WAITING, ORDER_STATUS_SUCC, ... */
  status: string
  createOrderTime: number
  payFinishTime: number
  desc: string
  freeCoinCount: number
  payCoinCount: number
  refundFreeCoinCount: number
  refundPayCoinCount: number
  orderType: string
  memo: string
  receiptInfo: string
}

export interface SubmitMembercardUserInfoEvent extends EventBase {
  kind: 'submit_membercard_user_info'
  cardId: string
  userCardCode: string
}

// Account verification events (微信认证): times are unix seconds.

export interface QualificationVerifySuccessEvent extends EventBase {
  kind: 'qualification_verify_success'
  expiredTime: number
}

export interface QualificationVerifyFailEvent extends EventBase {
  kind: 'qualification_verify_fail'
  failTime: number
  failReason: string
}

export interface NamingVerifySuccessEvent extends EventBase {
  kind: 'naming_verify_success'
  expiredTime: number
}

export interface NamingVerifyFailEvent extends EventBase {
  kind: 'naming_verify_fail'
  failTime: number
  failReason: string
}

export interface AnnualRenewEvent extends EventBase {
  kind: 'annual_renew'
  expiredTime: number
}

export interface VerifyExpiredEvent extends EventBase {
  kind: 'verify_expired'
  expiredTime: number
}

/**
 * Any push the engine does not know, or a known one that did not fit its member (a required field
 * absent, a number that does not parse): kept whole and still routable, never dropped (protocol.md §3).
 */
export interface UnknownMessage extends MessageBase {
  kind: 'unknown'
  /** MsgType as received. */
  msgType: string
  /** Event as received, when MsgType is event and Event is present. */
  event?: string
  /** MsgId (or MsgID) as received, when present: dedup keys on it. */
  msgId?: string
  /** Why a known MsgType/Event ended here (e.g. `Scale is not a number: "abc"`); absent when simply unknown. */
  reason?: string
  /** Every field as parsed: the same object as `raw`. */
  fields: RawFields
}

export type InboundMessage =
  | TextMessage
  | ImageMessage
  | VoiceMessage
  | VideoMessage
  | ShortVideoMessage
  | LocationMessage
  | LinkMessage
  | FileMessage
  | MiniProgramPageMessage
  | SubscribeEvent
  | UnsubscribeEvent
  | ScanEvent
  | LocationReportEvent
  | ClickEvent
  | ViewEvent
  | ScanCodePushEvent
  | ScanCodeWaitMsgEvent
  | PicSysPhotoEvent
  | PicPhotoOrAlbumEvent
  | PicWeixinEvent
  | LocationSelectEvent
  | ViewMiniprogramEvent
  | MassSendJobFinishEvent
  | TemplateSendJobFinishEvent
  | SubscribeMsgPopupEvent
  | SubscribeMsgChangeEvent
  | SubscribeMsgSentEvent
  | PublishJobFinishEvent
  | KfCreateSessionEvent
  | KfCloseSessionEvent
  | KfSwitchSessionEvent
  | CardPassCheckEvent
  | CardNotPassCheckEvent
  | UserGetCardEvent
  | UserGiftingCardEvent
  | UserDelCardEvent
  | UserConsumeCardEvent
  | UserPayFromPayCellEvent
  | UserViewCardEvent
  | UserEnterSessionFromCardEvent
  | UpdateMemberCardEvent
  | CardSkuRemindEvent
  | CardPayOrderEvent
  | SubmitMembercardUserInfoEvent
  | QualificationVerifySuccessEvent
  | QualificationVerifyFailEvent
  | NamingVerifySuccessEvent
  | NamingVerifyFailEvent
  | AnnualRenewEvent
  | VerifyExpiredEvent
  | UnknownMessage

export type MessageKind = InboundMessage['kind']

export type MessageOf<K extends MessageKind> = Extract<InboundMessage, { kind: K }>

/** Every kind, for validating `type:` handlers in rule files. */
export const MESSAGE_KINDS = [
  'text',
  'image',
  'voice',
  'video',
  'shortvideo',
  'location',
  'link',
  'file',
  'miniprogrampage',
  'subscribe',
  'unsubscribe',
  'scan',
  'location_report',
  'click',
  'view',
  'scancode_push',
  'scancode_waitmsg',
  'pic_sysphoto',
  'pic_photo_or_album',
  'pic_weixin',
  'location_select',
  'view_miniprogram',
  'masssend_job_finish',
  'template_send_job_finish',
  'subscribe_msg_popup',
  'subscribe_msg_change',
  'subscribe_msg_sent',
  'publish_job_finish',
  'kf_create_session',
  'kf_close_session',
  'kf_switch_session',
  'card_pass_check',
  'card_not_pass_check',
  'user_get_card',
  'user_gifting_card',
  'user_del_card',
  'user_consume_card',
  'user_pay_from_pay_cell',
  'user_view_card',
  'user_enter_session_from_card',
  'update_member_card',
  'card_sku_remind',
  'card_pay_order',
  'submit_membercard_user_info',
  'qualification_verify_success',
  'qualification_verify_fail',
  'naming_verify_success',
  'naming_verify_fail',
  'annual_renew',
  'verify_expired',
  'unknown',
] as const satisfies readonly MessageKind[]

// Compile-time: a kind added to the union but not to MESSAGE_KINDS fails here, naming the kind.
type UnlistedKind = Exclude<MessageKind, (typeof MESSAGE_KINDS)[number]>
const everyKindListed: [UnlistedKind] extends [never] ? true : UnlistedKind = true
void everyKindListed

/**
 * Messages a user sent (not events): the platform allows a news reply of only 1 article to these
 * (protocol.md §4), and they are what the default reply answers.
 */
export const USER_MESSAGE_KINDS: ReadonlySet<MessageKind> = new Set<MessageKind>([
  'text', 'image', 'voice', 'video', 'shortvideo', 'location', 'link', 'file', 'miniprogrampage',
])

/**
 * Whether a reply answers a user's message rather than an event, for the platform's limits on it (one news
 * article, protocol.md §4). An `unknown` is a user's unless it came as an event (it has the `event` key only
 * then): a MsgType this engine does not read, or a known one whose fields did not fit, is still a message a
 * user sent, and a news reply of more articles than the platform takes for one is shown as nothing at all.
 */
export function answersUserMessage(message: InboundMessage): boolean {
  return USER_MESSAGE_KINDS.has(message.kind) || (message.kind === 'unknown' && !('event' in message))
}
