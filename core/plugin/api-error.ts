/**
 * The errors the engine's API raises at a plugin that called it wrongly (an empty storage key,
 * `session.update` with no session, a refused platform call), made in the plugin's own realm.
 *
 * Why: in the worker, the plugin runs in a vm2 sandbox, another V8 realm. A stack captured by an Error of
 * the worker's realm keeps the plugin's frames only while they are synchronous: the frame of an `async`
 * function (nearly every `handle`) is left out, so the error could not say which line of index.ts made
 * the bad call (describe-thrown.ts finds it in the stack). Made by a function of the sandbox, the same
 * error has that frame, and `e instanceof TypeError` holds in the plugin.
 *
 * One plugin runs in a worker, so the worker installs its sandbox's maker once (`useRealm`); anywhere else
 * (the test kit runs plugins in the test's own realm) the errors are the engine's own, which is the same.
 */

export type ApiErrorName = 'Error' | 'TypeError' | 'RangeError'
export type ErrorMaker = (name: ApiErrorName, message: string) => Error

let make: ErrorMaker = (name, message) => new globalThis[name](message)

/** Installs the maker of the realm the plugin runs in (a function evaluated in its sandbox). */
export function useRealm(maker: ErrorMaker): void {
  make = maker
}

/**
 * A `name` error in the plugin's realm, with the plugin's frames in its stack when made during its call.
 * Only ever made to be thrown: crossing into the sandbox costs ~20 µs here (vm2 wraps what comes back),
 * which a failure can pay and a successful call could not. So a failure that comes later (a storage or
 * API call the main thread refused, a timeout) is made in the plugin's realm but without its line: an
 * Error made at every call, in case it failed, made each storage call 60-80 µs slower (measured).
 */
export function apiError(name: ApiErrorName, message: string): Error {
  return make(name, message)
}

/** The maker to evaluate in the sandbox as a module: its `module.exports` is the ErrorMaker. */
export const REALM_ERROR_MAKER_SOURCE = 'module.exports = (name, message) => new globalThis[name](message)'
