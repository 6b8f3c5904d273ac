/**
 * Messages that only the customer-service API sends (POST /cgi-bin/message/custom/send, protocol.md §6):
 * WeChat has no passive-reply XML for them, so they are not Reply members and a plugin cannot return one
 * from `handle`. `ctx.api.sendToUser` takes a Reply or one of these.
 *
 * Field names follow the platform's JSON in camelCase (`head_content` -> `headContent`); the JSON itself
 * is built in custom-message.ts.
 */

/** One tappable option of a menu message. Tapping it sends its `content` back as a text message whose `bizmsgmenuid` is `id`. */
export interface MenuOption {
  id: string
  content: string
}

export type CustomMessage =
  /** msgmenu: text, a list of options the user taps to answer, text. */
  | { type: 'msgmenu'; headContent?: string; list: MenuOption[]; tailContent?: string }
  /** miniprogrampage: a mini program card; the mini program must be linked to the account. */
  | { type: 'miniprogrampage'; title?: string; appId: string; pagePath: string; thumbMediaId: string }
  /** mpnews: an article from the account's permanent material, by media_id. */
  | { type: 'mpnews'; mediaId: string }
  /** mpnewsarticle: a published article, by the article_id the publish API returned. */
  | { type: 'mpnewsarticle'; articleId: string }
  /** wxcard: a card or coupon, by card_id. */
  | { type: 'wxcard'; cardId: string }

export type CustomMessageType = CustomMessage['type']

export const CUSTOM_MESSAGE_TYPES: ReadonlySet<string> = new Set<CustomMessageType>(['msgmenu', 'miniprogrampage', 'mpnews', 'mpnewsarticle', 'wxcard'])

export interface SendOptions {
  /**
   * Send as this customer-service account (`name@wxid`, added in 客服功能) instead of as the account
   * itself: the user sees the agent's nickname and avatar. Sent as `customservice.kf_account`.
   */
  kfAccount?: string
}
