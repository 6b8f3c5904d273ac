/**
 * What the test kit's `client.sent()` and `client.waitForSent()` give: each message as the platform received
 * it (its JSON, keys as the platform spells them), typed, so that a test reads `m.text.content` or
 * `m.data.thing1.value` instead of narrowing untyped JSON at every step (or casting it, and missing a renamed
 * field). A customer-service message is told apart by its `msgtype`; template messages and subscription
 * notices have none (`via: 'template'` or `'subscribe'` gives one kind, typed as such).
 *
 * The types hold because the stand-in platform keeps only what passed its shape check, as WeChat's
 * (fake-wechat-api.ts: validateCustomMessage, and its template and bizsend checks); what it refused is not sent.
 */

/** Who it went to, and, when it was sent as a customer-service agent (`sendToUser(..., { kfAccount })`), as whom. */
type ToUser = {
  touser: string
  customservice?: { kf_account: string }
}

/** A customer-service message (message/custom/send): a late reply, `ctx.api.sendToUser`. */
export type SentCustomMessage = ToUser &
  (
    | { msgtype: 'text'; text: { content: string } }
    | { msgtype: 'image'; image: { media_id: string } }
    | { msgtype: 'voice'; voice: { media_id: string } }
    | { msgtype: 'video'; video: { media_id: string; thumb_media_id: string; title?: string; description?: string } }
    | { msgtype: 'music'; music: { thumb_media_id: string; title?: string; description?: string; musicurl?: string; hqmusicurl?: string } }
    /** The customer-service API takes one article: a news reply sends its first. */
    | { msgtype: 'news'; news: { articles: Array<{ title: string; description?: string; url?: string; picurl?: string }> } }
    | { msgtype: 'mpnews'; mpnews: { media_id: string } }
    | { msgtype: 'mpnewsarticle'; mpnewsarticle: { article_id: string } }
    | { msgtype: 'wxcard'; wxcard: { card_id: string } }
    | { msgtype: 'miniprogrampage'; miniprogrampage: { appid: string; pagepath: string; thumb_media_id: string; title?: string } }
    | { msgtype: 'msgmenu'; msgmenu: { head_content?: string; list: Array<{ id: string; content: string }>; tail_content?: string } }
  )

/** The kinds of customer-service message, by `msgtype`. */
export type SentCustomMessageType = SentCustomMessage['msgtype']

/** A field's value as sent: always text (a number given is sent as its text). */
type SentData = Record<string, { value: string }>

/** A template message (message/template/send): `ctx.api.sendTemplate`. */
export type SentTemplateMessage = {
  touser: string
  template_id: string
  url?: string
  miniprogram?: { appid: string; pagepath?: string }
  client_msg_id?: string
  data: SentData
  /** None: what tells it from a customer-service message. */
  msgtype?: undefined
}

/** A subscription notice (message/subscribe/bizsend): `ctx.api.sendSubscribeMessage`. */
export type SentSubscribeNotice = {
  touser: string
  template_id: string
  page?: string
  miniprogram?: { appid: string; pagepath?: string }
  data: SentData
  msgtype?: undefined
}

/** Any message the platform accepted. */
export type SentMessageBody = SentCustomMessage | SentTemplateMessage | SentSubscribeNotice

/** What `via` selects: `sent({ via: 'template' })` is a list of SentTemplateMessage. */
export type SentOf<V extends 'custom' | 'template' | 'subscribe' | undefined> = V extends 'custom'
  ? SentCustomMessage
  : V extends 'template'
    ? SentTemplateMessage
    : V extends 'subscribe'
      ? SentSubscribeNotice
      : SentMessageBody
