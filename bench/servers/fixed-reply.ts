/**
 * The fixed reply XML the baseline servers answer with: one string, so bare Koa and our HTTP layer alone
 * write the same bytes and their numbers compare.
 */
export const FIXED_REPLY_XML =
  '<xml><ToUserName><![CDATA[user]]></ToUserName><FromUserName><![CDATA[gh_wxengine]]></FromUserName>' +
  '<CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[Hello]]></Content></xml>'
