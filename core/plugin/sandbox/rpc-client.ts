/**
 * The worker's side of the calls it makes to the main thread (storage, platform API). Each request has an
 * id; the answer arrives as a value (`ok` or a message) and a failure is re-thrown in the plugin as an
 * Error. A request made during a plugin call stops waiting at that call's deadline: past it the main
 * thread has already answered the call as a timeout.
 */
import { apiError } from '../api-error.ts'
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
/**
 * Characters of request payload (storage values, API bodies) on their way to the main thread at once; a
 * request past it waits here for earlier ones to be answered. The main thread takes a worker's waiting
 * messages in one go, copying each: 60 storage values of 500 KB sent together held it for 130-240 ms.
 * A single request larger than this still goes, alone.
 */
export const MAX_RPC_CHARS_IN_FLIGHT = 4 * 1_048_576

/** `size`: what it counts in the in-flight window once posted (0 while held). */
type Pending = { resolve: (v: JsonValue | undefined) => void; reject: (e: Error) => void; timer: NodeJS.Timeout; size: number }

/** The request without its id: distributive, so each method keeps its own fields. */
export type RpcBody = RpcRequest extends infer R ? (R extends RpcRequest ? Omit<R, 't' | 'id'> : never) : never

export interface RpcClient {
  /**
   * `deadline`: epoch ms, or undefined for background work. `size`: the payload's characters as JSON
   * (to-plain.ts lastCopySize), for the in-flight bound; 0 for requests that carry little.
   */
  request(body: RpcBody, deadline: number | undefined, size?: number): Promise<JsonValue | undefined>
  settle(response: RpcResponse): void
}

/** `port`: the worker's line to the engine (sandbox/worker-port.ts), or a MessagePort in tests. */
export function createRpcClient(port: { postMessage(message: RpcRequest): void }): RpcClient {
  const pending = new Map<number, Pending>()
  /** Requests holding back for room in the window, in order, and what is in flight. */
  const held: Array<{ id: number; message: RpcRequest; size: number }> = []
  let inFlight = 0
  let nextId = 1

  function post(id: number, message: RpcRequest, size: number): void {
    inFlight += size
    pending.get(id)!.size = size
    port.postMessage(message)
  }

  /** Sends held requests while they fit (the first always goes when nothing else is in flight). */
  function sendHeld(): void {
    for (;;) {
      // Timed out while held: nothing to send, and no room to wait for.
      while (held.length > 0 && !pending.has(held[0]!.id)) held.shift()
      if (held.length === 0 || (inFlight > 0 && inFlight + held[0]!.size > MAX_RPC_CHARS_IN_FLIGHT)) return
      const next = held.shift()!
      post(next.id, next.message, next.size)
    }
  }

  /** Ends a request (answered or timed out): its room in the window goes to those held behind it. */
  function done(id: number): Pending | undefined {
    const p = pending.get(id)
    if (!p) return undefined
    pending.delete(id)
    clearTimeout(p.timer)
    inFlight -= p.size
    sendHeld()
    return p
  }

  return {
    request(body, deadline, size = 0) {
      if (pending.size >= MAX_PENDING_RPC) {
        return Promise.reject(apiError('Error', `${body.method}: ${MAX_PENDING_RPC} storage and API calls already waiting for an answer: await them`))
      }
      const id = nextId++
      const waitMs = deadline === undefined ? BACKGROUND_RPC_TIMEOUT_MS : deadline - Date.now()
      if (waitMs <= 0) return Promise.reject(apiError('Error', `${body.method}: the plugin call's deadline has passed`))
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          done(id)
          reject(apiError('Error', `${body.method}: no answer within ${waitMs} ms`))
        }, waitMs)
        pending.set(id, { resolve, reject, timer, size: 0 })
        // In order: it goes now if nothing is held before it and it fits, else when room is made.
        held.push({ id, message: { t: 'rpc', id, ...body } as RpcRequest, size })
        sendHeld()
      })
    },
    settle(response) {
      // Already timed out: the late answer has nobody to go to.
      const p = done(response.id)
      if (!p) return
      // Data, as every request but a download resolves; a download's file (bytes) is read as such by its caller.
      if (response.ok) p.resolve(response.value as JsonValue | undefined)
      else p.reject(response.error ? platformApiError(response.message, response.error) : apiError('Error', response.message))
    },
  }
}

/**
 * A refused platform call as the plugin sees it: an Error named PlatformApiError with `code` (API_ERROR,
 * STORE_UNAVAILABLE, ...) and, when the platform answered one, `errcode` (plugin-api.ts).
 */
function platformApiError(message: string, error: RpcError): Error {
  const e = apiError('Error', message) as Error & RpcError
  e.name = 'PlatformApiError'
  e.code = error.code
  if (error.errcode !== undefined) e.errcode = error.errcode
  return e
}
