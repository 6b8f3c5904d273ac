/** Small builders for compiled-rule tests; not a test file itself. */
import type { Keyword, KeywordKind, TextRule, TypeHandler, RuleTarget } from '../../../core/route/rule-types.ts'
import type { MessageKind } from '../../../core/normalize/message-types.ts'

type KeywordSpec = string | ({ [K in KeywordKind]?: string } & { foldCase?: boolean; foldWidth?: boolean })

export function keyword(spec: KeywordSpec, foldCase = true, foldWidth = true): Keyword {
  if (typeof spec === 'string') return { kind: 'exact', value: spec, foldCase, foldWidth }
  const kind = (['exact', 'contains', 'prefix', 'regex'] as const).find((k) => spec[k] !== undefined) as KeywordKind
  return { kind, value: spec[kind] as string, foldCase: spec.foldCase ?? foldCase, foldWidth: spec.foldWidth ?? foldWidth }
}

export function textRule(
  name: string,
  keywords: KeywordSpec[],
  opts: Partial<Omit<TextRule, 'keywords' | 'name'>> & { foldCase?: boolean; foldWidth?: boolean } = {},
): TextRule {
  return {
    name,
    account: opts.account ?? '*',
    keywords: keywords.map((k) => keyword(k, opts.foldCase ?? true, opts.foldWidth ?? true)),
    target: opts.target ?? { plugin: `p-${name}`, args: { from: name } },
    priority: opts.priority ?? 0,
    enabled: opts.enabled ?? true,
    source: opts.source ?? { file: 'a.yaml', line: 1 },
  }
}

export function handler(
  name: string,
  kind: MessageKind,
  opts: Partial<Omit<TypeHandler, 'name' | 'kind'>> = {},
): TypeHandler {
  const target: RuleTarget = opts.target ?? { plugin: `p-${name}`, args: {} }
  return {
    name,
    account: opts.account ?? '*',
    kind,
    ...(opts.scene === undefined ? {} : { scene: opts.scene }),
    target,
    priority: opts.priority ?? 0,
    enabled: opts.enabled ?? true,
    source: opts.source ?? { file: 'a.yaml', line: 1 },
  }
}
