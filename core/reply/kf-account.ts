/**
 * A customer-service account (客服帐号), as a transfer_customer_service reply's TransInfo.KfAccount and
 * sendToUser's `kfAccount` name it. The platform's format (kfaccount/add): `prefix@wechat-id`, the prefix
 * at most 10 English letters, digits or underscores, the suffix the account's WeChat ID (letters, digits,
 * `_`, `-`), at most 30 characters; e.g. `test1@test`.
 *
 * Why it is checked here: a transfer to an account that is not one went out as a passive reply, which the
 * platform answers with nothing (no error, no agent); and sendToUser's was refused only after a request.
 */
import { quotedShort } from '../shown-text.ts'

const KF_ACCOUNT = /^[A-Za-z0-9_]{1,10}@[A-Za-z0-9_-]{1,30}$/

/** What is wrong with `value` as a customer-service account; undefined when it is one. */
export function kfAccountProblem(value: unknown): string | undefined {
  if (typeof value === 'string' && KF_ACCOUNT.test(value)) return undefined
  return `kfAccount must be a customer-service account, prefix@wechat-id (a prefix of 1 to 10 letters, digits or _, e.g. "kf1@mywxid"), got ${shown(value)}`
}

function shown(value: unknown): string {
  if (typeof value === 'string') return quotedShort(value, 60)
  if (value === null) return 'null'
  return typeof value
}
