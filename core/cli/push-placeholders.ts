/**
 * What `wxengine send` puts in the fields a push must have (docs/messages.md) when they are not given:
 * `--type image` alone was sent without PicUrl and MediaId, which the engine keeps as `unknown`, so no
 * image handler ever saw it (a plugin author's review). One entry per kind the engine reads, by the name
 * WeChat writes (MsgType for a user message, Event for an event); the type makes a new kind need one.
 * Optional fields are left out: a plugin sees them absent, as it will from WeChat.
 */
import { didYouMean } from '../did-you-mean.ts'
import type { MessageKind } from '../normalize/message-types.ts'
import type { PushFields } from '../testkit/wechat-simulator.ts'

type Placeholder = { msgType: string; fields: PushFields } | { event: string; fields: PushFields }

const MD5 = 'd41d8cd98f00b204e9800998ecf8427e'
const CARD = { CardId: 'pCliCardId', UserCardCode: '123456789012' }
const AT = { Location_X: 23.13, Location_Y: 113.26, Scale: 15, Label: '' }

/** Text is not here: its one field is the text argument, which send asks for. */
export const PUSH_PLACEHOLDERS: { readonly [K in Exclude<MessageKind, 'unknown' | 'text'>]: Placeholder } = {
  image: { msgType: 'image', fields: { PicUrl: 'https://example.com/wxengine-send.jpg', MediaId: 'cli-image-media-id' } },
  voice: { msgType: 'voice', fields: { MediaId: 'cli-voice-media-id', Format: 'amr' } },
  video: { msgType: 'video', fields: { MediaId: 'cli-video-media-id', ThumbMediaId: 'cli-thumb-media-id' } },
  shortvideo: { msgType: 'shortvideo', fields: { MediaId: 'cli-video-media-id', ThumbMediaId: 'cli-thumb-media-id' } },
  location: { msgType: 'location', fields: AT },
  link: { msgType: 'link', fields: { Title: 'A link', Description: 'sent by wxengine send', Url: 'https://example.com/' } },
  file: {
    msgType: 'file',
    fields: { Title: 'file.txt', Description: 'sent by wxengine send', FileKey: 'cli-file-key', FileMd5: MD5, FileTotalLen: 0 },
  },
  miniprogrampage: {
    msgType: 'miniprogrampage',
    fields: { AppId: 'wx0000000000000000', Title: 'A mini program page', PagePath: 'pages/index/index', ThumbUrl: 'https://example.com/thumb.jpg', ThumbMediaId: 'cli-thumb-media-id' },
  },
  subscribe: { event: 'subscribe', fields: {} },
  unsubscribe: { event: 'unsubscribe', fields: {} },
  scan: { event: 'SCAN', fields: { EventKey: '123', Ticket: 'cli-ticket' } },
  location_report: { event: 'LOCATION', fields: { Latitude: 23.13, Longitude: 113.26, Precision: 30 } },
  click: { event: 'CLICK', fields: { EventKey: 'CLI_KEY' } },
  view: { event: 'VIEW', fields: { EventKey: 'https://example.com/' } },
  scancode_push: { event: 'scancode_push', fields: { EventKey: 'CLI_KEY', ScanCodeInfo: { ScanType: 'qrcode', ScanResult: 'cli-scan-result' } } },
  scancode_waitmsg: { event: 'scancode_waitmsg', fields: { EventKey: 'CLI_KEY', ScanCodeInfo: { ScanType: 'qrcode', ScanResult: 'cli-scan-result' } } },
  pic_sysphoto: { event: 'pic_sysphoto', fields: { EventKey: 'CLI_KEY', SendPicsInfo: { Count: 1, PicList: { item: { PicMd5Sum: MD5 } } } } },
  pic_photo_or_album: { event: 'pic_photo_or_album', fields: { EventKey: 'CLI_KEY', SendPicsInfo: { Count: 1, PicList: { item: { PicMd5Sum: MD5 } } } } },
  pic_weixin: { event: 'pic_weixin', fields: { EventKey: 'CLI_KEY', SendPicsInfo: { Count: 1, PicList: { item: { PicMd5Sum: MD5 } } } } },
  location_select: { event: 'location_select', fields: { EventKey: 'CLI_KEY', SendLocationInfo: { ...AT, Poiname: '' } } },
  view_miniprogram: { event: 'view_miniprogram', fields: { EventKey: 'pages/index/index', MenuId: '1' } },
  masssend_job_finish: {
    event: 'MASSSENDJOBFINISH',
    fields: { MsgID: '1000001', Status: 'send success', TotalCount: 1, FilterCount: 1, SentCount: 1, ErrorCount: 0 },
  },
  template_send_job_finish: { event: 'TEMPLATESENDJOBFINISH', fields: { MsgID: '1000001', Status: 'success' } },
  subscribe_msg_popup: {
    event: 'subscribe_msg_popup_event',
    fields: { SubscribeMsgPopupEvent: { List: { TemplateId: 'cli-template-id', SubscribeStatusString: 'accept', PopupScene: 2 } } },
  },
  subscribe_msg_change: {
    event: 'subscribe_msg_change_event',
    fields: { SubscribeMsgChangeEvent: { List: { TemplateId: 'cli-template-id', SubscribeStatusString: 'reject' } } },
  },
  subscribe_msg_sent: {
    event: 'subscribe_msg_sent_event',
    fields: { SubscribeMsgSentEvent: { List: { TemplateId: 'cli-template-id', MsgID: '1000001', ErrorCode: 0, ErrorStatus: 'success' } } },
  },
  publish_job_finish: { event: 'PUBLISHJOBFINISH', fields: { PublishEventInfo: { publish_id: '1000001', publish_status: 0, article_id: 'cli-article-id' } } },
  kf_create_session: { event: 'kf_create_session', fields: { KfAccount: 'kf1@wxid' } },
  kf_close_session: { event: 'kf_close_session', fields: { KfAccount: 'kf1@wxid' } },
  kf_switch_session: { event: 'kf_switch_session', fields: { FromKfAccount: 'kf1@wxid', ToKfAccount: 'kf2@wxid' } },
  card_pass_check: { event: 'card_pass_check', fields: { CardId: CARD.CardId } },
  card_not_pass_check: { event: 'card_not_pass_check', fields: { CardId: CARD.CardId } },
  user_get_card: { event: 'user_get_card', fields: { ...CARD, IsGiveByFriend: 0 } },
  user_gifting_card: { event: 'user_gifting_card', fields: { ...CARD, FriendUserName: 'cli-friend', IsReturnBack: 0, IsChatRoom: 0 } },
  user_del_card: { event: 'user_del_card', fields: CARD },
  user_consume_card: { event: 'user_consume_card', fields: { ...CARD, ConsumeSource: 'FROM_API' } },
  user_pay_from_pay_cell: {
    event: 'user_pay_from_pay_cell',
    fields: { ...CARD, TransId: '1000001', LocationId: '1', Fee: 100, OriginalFee: 100 },
  },
  user_view_card: { event: 'user_view_card', fields: CARD },
  user_enter_session_from_card: { event: 'user_enter_session_from_card', fields: CARD },
  update_member_card: { event: 'update_member_card', fields: { ...CARD, ModifyBonus: 0, ModifyBalance: 0 } },
  card_sku_remind: { event: 'card_sku_remind', fields: { CardId: CARD.CardId, Detail: 'the stock is low' } },
  card_pay_order: {
    event: 'card_pay_order',
    fields: {
      OrderId: '1000001', Status: 'ORDER_STATUS_FINANCE_SUCC', CreateOrderTime: 0, PayFinishTime: 0, Desc: 'sent by wxengine send',
      FreeCoinCount: 0, PayCoinCount: 0, RefundFreeCoinCount: 0, RefundPayCoinCount: 0, OrderType: 'ORDER_TYPE_WXPAY', Memo: '', ReceiptInfo: '',
    },
  },
  submit_membercard_user_info: { event: 'submit_membercard_user_info', fields: CARD },
  qualification_verify_success: { event: 'qualification_verify_success', fields: { ExpiredTime: 0 } },
  qualification_verify_fail: { event: 'qualification_verify_fail', fields: { FailTime: 0, FailReason: 'sent by wxengine send' } },
  naming_verify_success: { event: 'naming_verify_success', fields: { ExpiredTime: 0 } },
  naming_verify_fail: { event: 'naming_verify_fail', fields: { FailTime: 0, FailReason: 'sent by wxengine send' } },
  annual_renew: { event: 'annual_renew', fields: { ExpiredTime: 0 } },
  verify_expired: { event: 'verify_expired', fields: { ExpiredTime: 0 } },
}

// MsgType and Event are matched case-insensitively, as the engine matches them.
const byMsgType = new Map<string, PushFields>()
const byEvent = new Map<string, PushFields>()
for (const p of Object.values(PUSH_PLACEHOLDERS)) {
  if ('msgType' in p) byMsgType.set(p.msgType.toLowerCase(), p.fields)
  else byEvent.set(p.event.toLowerCase(), p.fields)
}

/** The placeholders of a user message's MsgType, or of an event's Event; {} for one the engine does not read. */
export function placeholdersFor(push: { msgType: string } | { event: string }): PushFields {
  return ('msgType' in push ? byMsgType.get(push.msgType.toLowerCase()) : byEvent.get(push.event.toLowerCase())) ?? {}
}

const MSG_TYPES = ['text', ...Object.values(PUSH_PLACEHOLDERS).flatMap((p) => ('msgType' in p ? [p.msgType] : []))]
const EVENTS = Object.values(PUSH_PLACEHOLDERS).flatMap((p) => ('event' in p ? [p.event] : []))

/**
 * Said when the MsgType or Event is none the engine reads: sent all the same (an unknown kind is how to try
 * the `unknown` path, or an event WeChat added since), but `--event CLIK` arrived as `unknown` in silence.
 */
export function unreadKindWarning(push: { msgType: string } | { event: string }): string | undefined {
  const [what, name, known] = 'msgType' in push ? (['MsgType', push.msgType, MSG_TYPES] as const) : (['Event', push.event, EVENTS] as const)
  if (known.some((k) => k.toLowerCase() === name.toLowerCase())) return undefined
  return `${JSON.stringify(name)} is no ${what} the engine reads${didYouMean(name, known)}: sent as given, it arrives as an unknown message`
}
