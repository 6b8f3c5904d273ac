/**
 * The mass-send API's answers read, and its refusals said in words:
 *   sendall / send   {"errcode":0,"errmsg":"send job submission success","msg_id":34182,"msg_data_id":206227730}
 *                    (msg_data_id for an mpnews only: the article's, as its statistics name it)
 *   preview          {"errcode":0,"errmsg":"preview success","msg_id":34182}
 *   get              {"msg_id":201053012,"msg_status":"SEND_SUCCESS"}
 *   tags/get         {"tags":[{"id":1,"name":"每天一罐可乐星人","count":0}, ...]}
 * Ids are 64-bit: the API client keeps one past 2^53 as its digits (a string), a smaller one is a number;
 * both are read here as digits.
 */
import type { ApiJson } from '../platform/api-client.ts'
import type { JsonValue } from '../plugin/plugin-api.ts'
import { explainErrcode } from '../platform/explain-errcode.ts'

/** A 64-bit id as its digits, whichever way the API client read it; undefined when it is no id. */
export function idOf(v: JsonValue | undefined): string | undefined {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return String(v)
  if (typeof v === 'string' && /^\d+$/.test(v)) return v
  return undefined
}

export interface SentJob {
  msgId: string
  /** An mpnews's article id. */
  msgDataId?: string
}

export function readSendAnswer(json: ApiJson): SentJob | undefined {
  const msgId = idOf(json.msg_id)
  if (msgId === undefined) return undefined
  const msgDataId = idOf(json.msg_data_id)
  return { msgId, ...(msgDataId === undefined ? {} : { msgDataId }) }
}

/** 45065: the clientmsgid was sent in the last 24 hours; WeChat answers that send's msg_id. */
export const DUPLICATE_CLIENT_MSG_ID = 45065

/**
 * -1, system busy: WeChat may have taken the send before it answered so, as after a lost answer; the same
 * clientmsgid sent again is refused (45065) if it did, so the retry is said with it.
 */
export const SYSTEM_BUSY = -1

/** The msg_id 45065's answer names (the send it repeats), or undefined. */
export function repeatedMsgIdOf(answer: ApiJson | undefined): string | undefined {
  return answer ? idOf(answer.msg_id) : undefined
}

export type MassStatus = 'SENDING' | 'SEND_SUCCESS' | 'SEND_FAIL' | 'DELETE'

const STATUS_WORDS: Record<MassStatus, string> = {
  SENDING: 'still sending',
  SEND_SUCCESS: 'sent',
  SEND_FAIL: 'the send failed',
  DELETE: 'deleted',
}

export function readStatusAnswer(json: ApiJson): { msgId: string; status: string; words?: string } | undefined {
  const msgId = idOf(json.msg_id)
  const status = json.msg_status
  if (msgId === undefined || typeof status !== 'string' || status === '') return undefined
  const words = STATUS_WORDS[status as MassStatus]
  return { msgId, status, ...(words ? { words } : {}) }
}

export interface Tag {
  id: number
  name: string
  /** Followers with the tag. */
  count: number
}

export function readTags(json: ApiJson): Tag[] | undefined {
  if (!Array.isArray(json.tags)) return undefined
  const tags: Tag[] = []
  for (const t of json.tags) {
    if (typeof t !== 'object' || t === null || Array.isArray(t)) return undefined
    const { id, name, count } = t
    if (typeof id !== 'number' || typeof name !== 'string') return undefined
    tags.push({ id, name, count: typeof count === 'number' ? count : 0 })
  }
  return tags
}

/** The mass-send API's refusals (its documents and WeChat's global errcode list), in plain words. */
const EXPLANATIONS: Record<number, string> = {
  45065: 'this clientmsgid was sent in the last 24 hours (the same send, made twice)',
  45066: 'this clientmsgid was retried within a minute: wait a minute before trying again',
  45067: 'the clientmsgid is longer than 64',
  45028: 'no mass-send quota left: a subscription account sends to all once a day, a service account 4 times a month (the console\'s sends count too)',
  40007: 'invalid media_id: no material of this account has it (or a temporary one, which lasts 3 days, expired)',
  // The per-minute limit, 60 calls for the mass-send API (100 a day is 45009's): counted per account, so
  // another tool's calls with the same account spend it too. A refusal: nothing was taken.
  45011: 'the API was called too often (its per-minute quota: the mass-send API takes 60 calls a minute for the account, whoever makes them): wait a minute and try again',
  45009: "the API's daily quota is used up; it renews the next day, or clear it in the console (接口权限) or with clear_quota",
  48001: 'this account may not use the mass-send API (api unauthorized): it is for verified accounts (认证订阅号 / 认证服务号), and a send to a list of OpenIDs for verified service accounts only',
  40003: 'invalid OpenID: one of them is not a follower of this account (an OpenID belongs to one account)',
  // No clientmsgid here: the table explains preview, status and delete too; a send names its own (mass.ts).
  [-1]: 'system busy: try again in a moment',
}

export function explainMassError(errcode: number): string {
  return explainErrcode(errcode, EXPLANATIONS)
}
