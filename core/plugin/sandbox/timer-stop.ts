/**
 * The function setup's `api.every` and `api.after` give the plugin to stop that timer, made in the plugin's
 * own realm around the registry's cancel (setup-registry.ts).
 *
 * Why not the cancel itself: a function of the worker's realm reaches the sandbox as a vm2 proxy, and what
 * plugin code does to it goes through to the worker's object: a property it sets (`stop.label = 'poll'`)
 * was set on the worker's function, and `String(stop)` showed the worker's source. A function made by
 * the sandbox is the plugin's own, as the errors api-error.ts makes there are; only its call to the cancel
 * crosses vm2's bridge.
 */

/** Evaluated in the sandbox as a module (load-plugin-module.ts): its export wraps a cancel as a plain function. */
export const REALM_TIMER_STOP_SOURCE = 'module.exports = (cancel) => function stop() { cancel() }'

export type TimerStopMaker = (cancel: () => void) => () => void
