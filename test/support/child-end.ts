/**
 * A child process's end, as a promise that can be asked for at any moment. A listener for 'exit' or 'close'
 * attached once the child has already ended waits forever: Node emits those events once, to the listeners
 * it has then. A test's `finally` that did so after a few awaits (the child killed, or crashed, meanwhile)
 * hung to its timeout on a loaded CI machine instead of saying what went wrong.
 *
 * Ask at spawn where you can (the promise is kept per child, so a later call gets the same one); a later
 * first call still resolves, from exitCode/signalCode, if the child has ended.
 */
import type { ChildProcess } from 'node:child_process'

export interface ChildEnd {
  code: number | null
  signal: NodeJS.Signals | null
}

const exits = new WeakMap<ChildProcess, Promise<ChildEnd>>()
const closes = new WeakMap<ChildProcess, Promise<ChildEnd>>()

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

function endOf(child: ChildProcess): ChildEnd {
  return { code: child.exitCode, signal: child.signalCode }
}

/** Resolves once `child` has exited ('exit'), whether that is still to come or has already happened. */
export function childExited(child: ChildProcess): Promise<ChildEnd> {
  let ended = exits.get(child)
  if (!ended) {
    // exitCode/signalCode are set just before 'exit' is emitted: set means it has been (or is being) emitted.
    ended = hasExited(child) ? Promise.resolve(endOf(child)) : new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
    exits.set(child, ended)
  }
  return ended
}

/**
 * Resolves once `child` has exited and its stdio pipes have closed ('close': all it wrote has been read),
 * whether that is still to come or has already happened.
 */
export function childClosed(child: ChildProcess): Promise<ChildEnd> {
  let closed = closes.get(child)
  if (!closed) {
    // 'close' comes once the process has exited and each pipe has closed; a pipe destroyed is closed or
    // about to be, so with the exit that is the end 'close' reports.
    const over = hasExited(child) && child.stdio.every((pipe) => pipe === null || pipe === undefined || pipe.destroyed)
    closed = over ? Promise.resolve(endOf(child)) : new Promise((resolve) => child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal })))
    closes.set(child, closed)
  }
  return closed
}
