/**
 * What a plugin or rule answers with. One member per passive-reply MsgType
 * (protocol.md §4), plus `none`, which is sent as the body `success`.
 */
export interface Article {
  title: string
  description?: string
  picUrl?: string
  url?: string
}

export type Reply =
  | { type: 'text'; content: string }
  | { type: 'image'; mediaId: string }
  | { type: 'voice'; mediaId: string }
  /** thumbMediaId is not part of the passive XML, but the customer-service API needs it for late replies. */
  | { type: 'video'; mediaId: string; title?: string; description?: string; thumbMediaId?: string }
  | {
      type: 'music'
      title?: string
      description?: string
      musicUrl?: string
      hqMusicUrl?: string
      thumbMediaId: string
    }
  | { type: 'news'; articles: Article[] }
  | { type: 'transfer_customer_service'; kfAccount?: string }
  | { type: 'none' }

export type ReplyType = Reply['type']
