export { computeSignature, verifySignature, verifyMsgSignature } from './signature.ts'
export { checkTimestamp } from './timestamp-window.ts'
export { createWeChatCipher } from './wechat-cipher.ts'
export type { WeChatCipher } from './wechat-cipher.ts'
