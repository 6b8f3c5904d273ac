/**
 * The account's subscription templates (订阅通知 > 我的模板, `/wxaapi/newtmpl/gettemplate`), the list a
 * subscription notice is checked against before it is sent, as a template message is against its templates:
 * by the same machinery (account-templates.ts: kept 10 minutes, read again on a miss, sent unchecked when it
 * cannot be read). The platform answers a bare 40037 for a templateId that is not the account's, and says
 * nothing of a keyword the template does not have.
 */
import { ok, type Result } from '../errors.ts'
import type { ApiJson } from './api-client.ts'
import { templatesIn, type AccountTemplate, type TemplateListKind } from './account-templates.ts'

export const SUBSCRIBE_TEMPLATE_LIST_PATH = '/wxaapi/newtmpl/gettemplate'

/** The templates in gettemplate's answer (`data: [{ priTmplId, title, content, type }]`), or why there are none to read. */
export function parseSubscribeTemplateList(answer: ApiJson): Result<AccountTemplate[], string> {
  const list = answer.data
  if (!Array.isArray(list)) return { ok: false, error: 'the answer has no data (the list of templates)' }
  return ok(templatesIn(list, 'priTmplId'))
}

/** Subscription notices: gettemplate. */
export const SUBSCRIPTION_NOTICES: TemplateListKind = {
  call: 'sendSubscribeMessage',
  message: 'subscription notice',
  templates: "the account's subscription templates",
  listApi: 'gettemplate',
  parse: parseSubscribeTemplateList,
  unauthorized: 'the account may not read its subscription templates (subscription notices not enabled, or the account not verified?)',
  consoleAdd: '订阅通知 > 公共模板库',
  consoleList: '订阅通知 > 我的模板',
}
