/**
 * Says when a push that passed its signature is addressed (ToUserName) to an original id other than the
 * account's configured `originalId`.
 *
 * WeChat puts the receiving account's original id in every push's ToUserName. A signed push addressed to
 * another id means two console accounts point at one URL with one token (their users' messages all answered
 * as this account, its plugins' storage shared), or `originalId` was copied wrong (and `wxengine send`
 * plays pushes no real one looks like). The push is still served: it is signed with this account's token,
 * and refusing it would leave that second account's users unanswered over a setting that may only be a typo.
 *
 * Said once per account and addressee for the process's life, not per push: the cause is the configuration,
 * every push of that account would repeat it. At most MAX_SAID pairs are remembered (only a holder of the
 * token can sign a push, so few are expected); past that no more are said.
 */
import type { Logger } from '../log/logger.ts'
import { quotedShort } from '../shown-text.ts'

const MAX_SAID = 64

export type AddresseeCheck = (accountId: string, originalId: string | undefined, toUser: string, key: string) => void

export function createAddresseeCheck(log: Logger): AddresseeCheck {
  const said = new Set<string>()
  return (accountId, originalId, toUser, key) => {
    if (originalId === undefined || toUser === originalId || said.size >= MAX_SAID) return
    const pair = `${accountId}\n${toUser}`
    if (said.has(pair)) return
    said.add(pair)
    log.warn(
      { account: accountId, toUser: quotedShort(toUser, 64), originalId, key },
      `push addressed to ${quotedShort(toUser, 64)}, not to account ${accountId}'s originalId "${originalId}": served, as it is signed with this account's token. Two console accounts share this URL and token, or originalId is wrong (said once per addressee)`,
    )
  }
}
