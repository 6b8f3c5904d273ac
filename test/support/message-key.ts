import { dedupKeyOf } from '../../core/dedup/dedup-key.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'
import { parseXml } from '../../core/normalize/safe-xml.ts'
import { buildPushXml, type PushFields } from '../../core/testkit/wechat-simulator.ts'

/**
 * The engine's key of a push (core/dedup/dedup-key.ts), made from its XML as the engine reads it: for a test
 * that asserts a line about one message names it. Made, not spelt out: an event's key ends in a digest of
 * its fields. `push`: built with push.*, or the XML itself (a push no builder makes, a field repeated).
 */
export function keyOfPush(accountId: string, push: PushFields | string): string {
  const parsed = parseXml(typeof push === 'string' ? push : buildPushXml(push))
  if (!parsed.ok) throw new Error(`push not readable: ${parsed.error.reason}`)
  const normalized = normalizeMessage(parsed.value)
  if (!normalized.ok) throw new Error(`push refused: ${normalized.error.reason}`)
  return dedupKeyOf(accountId, normalized.value)
}
