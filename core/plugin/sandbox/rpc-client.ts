/**
 * The worker's side of the calls it makes to the main thread (storage, platform API). Each request has an
 * id; the answer arrives as a value (`ok` or a message) and a failure is re-thrown in the plugin as an
 * Error. A request made during a plugin call stops waiting at that call's deadline: past it the main
 * thread has already answered the call as a timeout.
 */
import type { MessagePort } from 'node:worker_threads'
import type { JsonValue } from '../plugin-api.ts'
import type { RpcError, RpcRequest, RpcResponse } from '../worker-protocol.ts'

/** For requests from setup or timers, which belong to no call. */
export const BACKGROUND_RPC_TIMEOUT_MS = 10_000
/**
 * Requests waiting for an answer, at most. Each is a message the main thread must handle; a plugin firing
 * them in a loop without awaiting would flood it and hold up every other message. Past the bound a request
 * fails at once, in the plugin.
 */
export const MAX_PENDING_RPC = 256

type Pending = { resolve: (v: JsonValue | undefined) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }

/** The request without its id: distributive, so each method keeps its own fields. */
export type RpcBody = RpcRequest extends infer R ? (R extends RpcRequest ? Omit<R, 't' | 'id'> : never) : never

export interface RpcClient {
  /** `deadline`: epoch ms, or undefined for background work. */
  request(body: RpcBody, deadline: number | undefined): Promise<JsonValue | undefined>
  settle(response: RpcResponse): void
}

export function createRpcClient(port: MessagePort): RpcClient {
  const pending = new Map<number, Pending>()
  let nextId = 1

  return {
    request(body, deadline) {
      if (pending.size >= MAX_PENDING_RPC) {
        return Promise.reject(new Error(`${body.method}: ${MAX_PENDING_RPC} storage and API calls already waiting for an answer: await them`))
      }
      const id = nextId++
      const waitMs = deadline === undefined ? BACKGROUND_RPC_TIMEOUT_MS : deadline - Date.now()
      if (waitMs <= 0) return Promise.reject(new Error(`${body.method}: the plugin call's deadline has passed`))
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id)
          reject(new Error(`${body.method}: no answer within ${waitMs} ms`))
        }, waitMs)
        pending.set(id, { resolve, reject, timer })
        port.postMessage({ t: 'rpc', id, ...body } as RpcRequest)
      })
    },
    settle(response) {
      const p = pending.get(response.id)
      // Already timed out: the late answer has nobody to go to.
      if (!p) return
      pending.delete(response.id)
      clearTimeout(p.timer)
      if (response.ok) p.resolve(response.value)
      else p.reject(response.error ? platformApiError(response.message, response.error) : new Error(response.message))
    },
  }
}

/**
 * A refused platform call as the plugin sees it: an Error named PlatformApiError with `code` (API_ERROR,
 * STORE_UNAVAILABLE, ...) and, when the platform answered one, `errcode` (plugin-api.ts).
 */
function platformApiError(message: string, error: RpcError): Error {
  const e = new Error(message) as Error & RpcError
  e.name = 'PlatformApiError'
  e.code = error.code
  if (error.errcode !== undefined) e.errcode = error.errcode
  return e
}
