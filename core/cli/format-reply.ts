/** A reply's fields as lines a person reads: the type first, then every field but the envelope. */
import type { RawFields, RawValue } from '../normalize/message-types.ts'
import type { Json, JsonObject, SentVia } from '../testkit/fake-wechat-api.ts'

const ENVELOPE = new Set(['ToUserName', 'FromUserName', 'CreateTime', 'MsgType'])

export function formatReply(fields: RawFields | null, encrypted: boolean): string {
  if (!fields) return 'no reply (the engine answered "success")'
  const lines = [`${String(fields.MsgType ?? 'unknown')} reply${encrypted ? ' (encrypted, decrypted and verified)' : ''}`]
  for (const [name, value] of Object.entries(fields)) if (!ENVELOPE.has(name)) lines.push(...describe(name, value, '  '))
  return lines.join('\n')
}

function describe(name: string, value: RawValue, indent: string): string[] {
  if (typeof value === 'string') {
    const [first, ...rest] = value.split('\n')
    return [`${indent}${name}: ${first}`, ...rest.map((l) => `${indent}${' '.repeat(name.length + 2)}${l}`)]
  }
  if (Array.isArray(value)) return value.flatMap((v, i) => describe(`${name}[${i}]`, v, indent))
  return [`${indent}${name}:`, ...Object.entries(value).flatMap(([k, v]) => describe(k, v, `${indent}  `))]
}

/**
 * A message sent through the API (`send --local --wait`) as lines: a customer-service message's msgtype, or a
 * template message's or subscription notice's template_id, and when; then its fields but touser.
 */
export function formatSentMessage(body: JsonObject, afterMs: number, via: SentVia = 'custom'): string {
  const after = `${(afterMs / 1000).toFixed(1)} s after the push`
  const head =
    via === 'template'
      ? `template message ${String(body.template_id)} through the template API`
      : via === 'subscribe'
        ? `subscription notice ${String(body.template_id)} through the subscription API (bizsend)`
        : `${String(body.msgtype ?? 'unknown')} message through the customer-service API`
  const shown = via === 'custom' ? ['touser', 'msgtype'] : ['touser', 'template_id']
  const lines = [`${head}, ${after}`]
  for (const [name, value] of Object.entries(body)) if (!shown.includes(name)) lines.push(...describeJson(name, value, '  '))
  return lines.join('\n')
}

function describeJson(name: string, value: Json, indent: string): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => describeJson(`${name}[${i}]`, v, indent))
  if (value !== null && typeof value === 'object') return [`${indent}${name}:`, ...Object.entries(value).flatMap(([k, v]) => describeJson(k, v, `${indent}  `))]
  return describe(name, String(value), indent)
}
