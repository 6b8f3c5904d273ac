/**
 * The plugin's `console`, made in its own realm. vm2's `console: 'redirect'` sent every call through an
 * event emitted across its bridge, the arguments spread through the proxy of a sandbox array: 45 µs a call
 * whether the line was kept or not, so a plugin logging in a loop (console.debug below the level included)
 * ran 20 times slower than with ctx.log and met its timeout with nothing said why (a review of plugin API
 * misuse). This console drops a line below the engine's level where it is called, and joins text in the
 * sandbox, so that only a string crosses; other values cross as they did, to be inspected by the worker.
 */

/** Evaluated in the sandbox as a module (load-plugin-module.ts): its export installs the console. */
export const REALM_CONSOLE_SOURCE = `module.exports = function installConsole(write, lowest) {
  const rank = { debug: 20, info: 30, warn: 40, error: 50 };
  const method = (level) => function (...args) {
    if (rank[level] < lowest) return;
    for (let i = 0; i < args.length; i++) {
      if (typeof args[i] !== 'string') return write(level, undefined, args);
    }
    write(level, args.join(' '), undefined);
  };
  globalThis.console = {
    debug: method('debug'), log: method('info'), info: method('info'), warn: method('warn'), error: method('error'),
    dir: method('info'), trace: method('debug'), time() {}, timeEnd() {},
  };
}`

export type ConsoleLevel = 'debug' | 'info' | 'warn' | 'error'

/**
 * `write` gets a line's text when every argument was a string, else the arguments; `lowest` is pino's number
 * of the lowest level kept (20 debug, 30 info, ...).
 */
export type ConsoleInstaller = (write: (level: ConsoleLevel, text: string | undefined, args: unknown[] | undefined) => void, lowest: number) => void
