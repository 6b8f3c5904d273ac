/**
 * The last step of an answer to an encrypted request (compatible and safe mode): the reply XML is encrypted
 * with the account's key and wrapped with its own timestamp, nonce and signature (protocol.md §2). The
 * request's side of the same cipher is in verify/verify-request.ts.
 */
import type { VerifiedAccount } from '../verify/verify-request.ts'
import { randomBytesFromPool } from '../verify/random-pool.ts'
import { buildEncryptedReply } from './reply-xml.ts'

export function sealReply(account: VerifiedAccount, xml: string, nowSeconds: number): string {
  if (!account.cipher) throw new Error('sealReply called for a plaintext account')
  return buildEncryptedReply(account.cipher, account.config.token, xml, String(nowSeconds), randomBytesFromPool(8).toString('hex'))
}
