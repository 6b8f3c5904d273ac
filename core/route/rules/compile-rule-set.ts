/**
 * Compile validated rules into an immutable RuleSet (core/route/rule-types.ts). Disabled rules and
 * handlers are dropped here, so they can never match. Input must be valid (loadRuleSet checks it);
 * an invalid regex here is a bug and throws.
 */
import type { Candidate, PluginUse, RuleSet, RuleTarget, SystemReplies, TextRule, TypeHandler } from '../rule-types.ts'
import type { MessageKind } from '../../normalize/message-types.ts'
import { compareRuleOrder, sortIndicesByRuleOrder } from './rule-order.ts'
import { argsOf, buildTextMatcher, type OrderedCandidate, type OrderedRule, type TextMatcher } from './text-matcher.ts'

/** The account scope every account also sees. */
export const ALL_ACCOUNTS = '*'

/** Welcome and default replies per account id ('*' for every account). */
export type SystemByAccount = Readonly<Record<string, SystemReplies>>

export interface CompiledRuleSet extends RuleSet {
  /** Regexes that have no literal to prefilter on (they run on every text of their scope). */
  readonly unfilteredRegexes: { account: string; rule: string; keyword: string }[]
}

interface OrderedHandler {
  handler: TypeHandler
  order: number
}

export function compileRuleSet(
  rules: readonly TextRule[],
  handlers: readonly TypeHandler[],
  system: SystemByAccount = {},
): CompiledRuleSet {
  const enabledRules = rules.filter((r) => r.enabled)
  const ruleOrder = sortIndicesByRuleOrder(enabledRules, compareRuleOrder)
  const rulesByScope = new Map<string, OrderedRule[]>()
  ruleOrder.forEach((i, order) => {
    const rule = enabledRules[i]
    let list = rulesByScope.get(rule.account)
    if (!list) rulesByScope.set(rule.account, (list = []))
    list.push({ rule, order })
  })
  const textMatchers = new Map<string, TextMatcher>()
  for (const [scope, list] of rulesByScope) textMatchers.set(scope, buildTextMatcher(list))

  const enabledHandlers = handlers.filter((h) => h.enabled)
  const handlerOrder = sortIndicesByRuleOrder(enabledHandlers, compareHandlerOrder)
  const handlersByScope = new Map<string, Map<MessageKind, OrderedHandler[]>>()
  handlerOrder.forEach((i, order) => {
    const handler = enabledHandlers[i]
    let byKind = handlersByScope.get(handler.account)
    if (!byKind) handlersByScope.set(handler.account, (byKind = new Map()))
    let list = byKind.get(handler.kind)
    if (!list) byKind.set(handler.kind, (list = []))
    list.push({ handler, order })
  })

  const scopesOf = (account: string): string[] => (account === ALL_ACCOUNTS ? [ALL_ACCOUNTS] : [ALL_ACCOUNTS, account])

  const targets: RuleTarget[] = [
    ...enabledRules.map((r) => r.target),
    ...enabledHandlers.map((h) => h.target),
    ...Object.values(system).flatMap((s) => [s.welcome, s.default, s.error].filter((t): t is RuleTarget => t !== undefined)),
  ]
  const pluginNames = [...new Set(targets.flatMap((t) => ('plugin' in t ? [t.plugin] : [])))].sort()

  // The words the rules are written for, by scope: only `menu check` asks (literalKeys), so made at its first
  // question, not at every load of a serving engine.
  let literalsByScope: Map<string, Set<string>> | undefined
  const literalsOf = (scope: string): Iterable<string> => {
    if (!literalsByScope) {
      const byScope = new Map<string, Set<string>>()
      const addLiteral = (scope: string, word: string) => {
        let set = byScope.get(scope)
        if (!set) byScope.set(scope, (set = new Set()))
        set.add(word)
      }
      for (const r of enabledRules) for (const k of r.keywords) if (k.kind === 'exact') addLiteral(r.account, k.value)
      for (const h of enabledHandlers) {
        const only = onlyFor(h)
        if (only !== undefined) addLiteral(h.account, only)
      }
      literalsByScope = byScope
    }
    return literalsByScope.get(scope) ?? []
  }

  const unfilteredRegexes = [...textMatchers].flatMap(([account, m]) =>
    m.unfilteredRegexes.map((u) => ({ account, ...u })),
  )

  return {
    matchText(account, text, fromClick) {
      const found: OrderedCandidate[] = []
      for (const scope of scopesOf(account)) {
        const matcher = textMatchers.get(scope)
        if (matcher) for (const c of matcher.match(text, fromClick)) found.push(c)
      }
      return found.sort((a, b) => a.order - b.order).map((c) => c.candidate)
    },

    matchType(account, kind, which) {
      const found: OrderedHandler[] = []
      for (const scope of scopesOf(account)) {
        for (const entry of handlersByScope.get(scope)?.get(kind) ?? []) {
          const wanted = onlyFor(entry.handler)
          if (wanted === undefined || (which !== undefined && wanted === which)) found.push(entry)
        }
      }
      return found.sort((a, b) => a.order - b.order).map(({ handler }) => handlerCandidate(handler))
    },

    system(account) {
      const all = system[ALL_ACCOUNTS] ?? {}
      const own = account === ALL_ACCOUNTS ? {} : (system[account] ?? {})
      const out: SystemReplies = {}
      const welcome = own.welcome ?? all.welcome
      const fallback = own.default ?? all.default
      const failed = own.error ?? all.error
      if (welcome) out.welcome = welcome
      if (fallback) out.default = fallback
      if (failed) out.error = failed
      return out
    },

    size: {
      textRules: enabledRules.length,
      keywords: [...textMatchers.values()].reduce((n, m) => n + m.keywordCount, 0),
      typeHandlers: enabledHandlers.length,
    },

    pluginNames: () => pluginNames.slice(),
    pluginUses: (name) => {
      const named = (t: RuleTarget | undefined) => t !== undefined && 'plugin' in t && t.plugin === name
      const uses: PluginUse[] = [
        ...enabledRules.filter((r) => named(r.target)).map((r): PluginUse => ({ kind: 'rule', name: r.name, source: r.source })),
        ...enabledHandlers.filter((h) => named(h.target)).map((h): PluginUse => ({ kind: 'handler', name: h.name, source: h.source })),
      ]
      for (const [account, replies] of Object.entries(system)) {
        for (const reply of ['welcome', 'default', 'error'] as const) if (named(replies[reply])) uses.push({ kind: 'system', reply, account })
      }
      return uses
    },
    literalKeys: (account) => [...new Set(scopesOf(account).flatMap((scope) => [...literalsOf(scope)]))],
    unfilteredRegexes,
  }
}

function compareHandlerOrder(a: TypeHandler, b: TypeHandler): number {
  if (a.priority !== b.priority) return b.priority - a.priority
  const aGeneric = onlyFor(a) === undefined ? 1 : 0
  const bGeneric = onlyFor(b) === undefined ? 1 : 0
  if (aGeneric !== bGeneric) return aGeneric - bGeneric
  return compareRuleOrder(a, b)
}

/** The one scene or key a handler is for (a handler has at most one of them), or undefined for any. */
function onlyFor(handler: TypeHandler): string | undefined {
  return handler.scene ?? handler.key
}

function handlerCandidate(handler: TypeHandler): Candidate {
  const only = onlyFor(handler)
  return {
    rule: handler.name,
    target: handler.target,
    match: {
      rule: handler.name,
      via: handler.scene !== undefined ? 'scene' : handler.key !== undefined ? 'key' : 'type',
      ...(only === undefined ? {} : { keyword: only }),
      captures: [],
      groups: {},
      fromClick: false,
      args: argsOf(handler),
    },
    users: handler.users,
  }
}

/** The candidate for a welcome, default or error reply, for the router (rule name = 'welcome' / 'default' / 'error'). */
export function buildSystemCandidate(which: 'welcome' | 'default' | 'error', target: RuleTarget): Candidate {
  return {
    rule: which,
    target,
    match: { rule: which, via: which, captures: [], groups: {}, fromClick: false, args: argsOf({ target }) },
  }
}
