/**
 * Pushes no reply can reach. An unsubscribe: the user has left, the client shows nothing, and a reply sent
 * late through the customer-service API is refused (43004). The platform's reports on the account's own jobs
 * (a mass send, a template message, a subscription notice, a publish finished) and on its verification: no
 * user asked anything, and a late reply would put a message in front of someone who said nothing (the template
 * report comes from the user it was sent to). The plugins still see these pushes (a dialogue ends, a report is
 * counted); whatever they answer is withheld, and the engine answers `success` (router.ts).
 */
import type { MessageKind } from '../normalize/message-types.ts'

export const NO_REPLY_KINDS: ReadonlySet<MessageKind> = new Set<MessageKind>([
  'unsubscribe',
  'masssend_job_finish',
  'template_send_job_finish',
  'subscribe_msg_sent',
  'publish_job_finish',
  'qualification_verify_success',
  'qualification_verify_fail',
  'naming_verify_success',
  'naming_verify_fail',
  'annual_renew',
  'verify_expired',
])
