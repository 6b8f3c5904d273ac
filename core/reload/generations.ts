/**
 * Hot reload without losing a message: the rules and plugins in use, and the configuration they were loaded
 * with (the accounts' user groups, the plugins' settings), form one immutable generation. A message
 * takes a lease on the current generation for its whole handling (late replies included); a reload swaps in
 * the next generation at once, and the old one is disposed only when its last lease is returned.
 */
import type { PluginSet } from '../plugin/plugin-host-types.ts'
import type { RuleSet } from '../route/rule-types.ts'
import type { UserGroupIndex } from '../route/user-groups.ts'

export interface Generation {
  readonly id: number
  readonly rules: RuleSet
  readonly plugins: PluginSet
  /**
   * Who is in which of the accounts' userGroups, as this generation's rules were checked against: a message
   * keeps the groups it started with across a reload. Absent: no account has groups, nobody is in one.
   */
  readonly userGroups?: UserGroupIndex
  /**
   * Each account's pageDomains, as this generation's login links were built with: the web endpoints check a
   * page against them (a reload applies a change). Absent: none has any.
   */
  readonly pageDomains?: ReadonlyMap<string, readonly string[]>
  /** The longest one plugin call may take (limits.pluginTimeoutMs, or a plugin's own timeoutMs above it). */
  readonly slowestPluginMs?: number
  readonly loadedAt: number
}

export interface Lease {
  readonly generation: Generation
  release(): void
}

export interface Generations {
  current(): Generation
  acquire(): Lease
  /** Make `next` current; the previous generation is disposed once no message holds it. */
  swap(next: Omit<Generation, 'id' | 'loadedAt'>): Generation
  /** Dispose every generation (shutdown), after in-flight leases are returned or `timeoutMs` passes. */
  close(timeoutMs: number): Promise<void>
}

export function createGenerations(first: Omit<Generation, 'id' | 'loadedAt'>, onDisposeError?: (e: unknown) => void): Generations {
  let seq = 0
  const make = (g: Omit<Generation, 'id' | 'loadedAt'>): Generation => ({ ...g, id: ++seq, loadedAt: Date.now() })
  let current = make(first)
  const leases = new Map<Generation, number>()
  const retired = new Set<Generation>()
  const disposing: Promise<void>[] = []
  const drained = new Map<Generation, () => void>()
  /** Set by close(): the current generation's plugins go with it too. */
  let closing = false

  function dispose(g: Generation, callsWithinMs?: number): void {
    retired.delete(g)
    leases.delete(g)
    // A reload that changed only rules hands its plugins on to the next generation: they go with the last
    // generation that has them.
    const inUse = (g.plugins === current.plugins && !closing) || [...retired].some((r) => r.plugins === g.plugins)
    if (!inUse) disposing.push(g.plugins.dispose({ callsWithinMs }).catch((e) => onDisposeError?.(e)))
    drained.get(g)?.()
  }

  return {
    current: () => current,
    acquire() {
      const g = current
      leases.set(g, (leases.get(g) ?? 0) + 1)
      let released = false
      return {
        generation: g,
        release() {
          if (released) return
          released = true
          const n = (leases.get(g) ?? 1) - 1
          leases.set(g, n)
          if (n === 0 && retired.has(g)) dispose(g)
        },
      }
    },
    swap(next) {
      const old = current
      current = make(next)
      // Before the old set is let go: a message still on it that waits for a restarting worker goes to the new
      // one. A set kept into the new generation is not let go.
      if (old.plugins !== current.plugins) old.plugins.retire(current.plugins)
      retired.add(old)
      if ((leases.get(old) ?? 0) === 0) dispose(old)
      return current
    },
    async close(timeoutMs) {
      closing = true
      retired.add(current)
      const waits = [...retired].map((g) =>
        (leases.get(g) ?? 0) === 0
          ? (dispose(g), Promise.resolve())
          : new Promise<void>((resolve) => drained.set(g, resolve)),
      )
      await Promise.race([Promise.all(waits), new Promise((r) => setTimeout(r, timeoutMs).unref())])
      // Past the bound, plugin calls still running are failed, not waited for to their deadlines.
      for (const g of [...retired]) dispose(g, 0)
      await Promise.all(disposing)
    },
  }
}
