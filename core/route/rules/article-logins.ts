/**
 * News articles written with `login: base|userinfo` (docs/rules.md#articles-that-log-the-user-in): each opens
 * its page through the engine's web login, so the page knows who tapped it. The link is the account's own
 * (`<publicUrl>/oauth/<account>?to=<page>`, core/web/login-link.ts), so a rule for every account has one reply
 * per account, made here when the rules are loaded with the configuration. What the login would refuse for an
 * account the rule serves (no publicUrl, a page off its pageDomains, no appSecret) is an error at the
 * `login:`, so a start, a reload and `rules check` refuse it before any user taps a dead link.
 */
import type { Reply } from '../../reply/reply-types.ts'
import { loginLink, type LoginLinkSettings } from '../../web/login-link.ts'
import type { RuleLoadError, RuleTarget } from '../rule-types.ts'
import { ALL_ACCOUNTS } from './compile-rule-set.ts'
import type { ParsedRuleFile } from './load-rule-set.ts'

/** Gives every target with article logins its reply per account (target.byAccount); resolves with the errors. */
export function resolveArticleLogins(files: readonly ParsedRuleFile[], settings: LoginLinkSettings): RuleLoadError[] {
  const errors: RuleLoadError[] = []
  const resolve = (account: string, owner: string, target: RuleTarget) => {
    if (!('reply' in target) || target.logins === undefined || target.reply.type !== 'news') return
    // An account not configured: its rules never run (warned about by the loader), so no link is made for it.
    const accounts = account === ALL_ACCOUNTS ? settings.accounts.map((a) => a.id) : settings.accounts.some((a) => a.id === account) ? [account] : []
    const byAccount: Record<string, Reply> = {}
    for (const id of accounts) {
      const articles = [...target.reply.articles]
      let made = true
      for (const login of target.logins) {
        const link = loginLink(settings, id, articles[login.article]!.url, login.scope)
        if ('problem' in link) {
          errors.push({ ...login.at, message: `${owner}: login (for account "${id}"${account === ALL_ACCOUNTS ? ', as the rule is for every account' : ''}): ${link.problem}` })
          made = false
          continue
        }
        articles[login.article] = { ...articles[login.article]!, url: link.url }
      }
      if (made) byAccount[id] = { ...target.reply, articles }
    }
    ;(target as { byAccount?: Record<string, Reply> }).byAccount = byAccount
  }
  for (const f of files) {
    for (const r of f.rules) resolve(r.account, `rule "${r.name}"`, r.target)
    for (const h of f.handlers) resolve(h.account, `handler "${h.name}"`, h.target)
    for (const s of f.system) resolve(s.account, s.which, s.target)
  }
  return errors
}
