/**
 * The message log's summary of a MASSSENDJOBFINISH push: written by the recorder, read back by `wxengine
 * mass results`; the status, which has spaces, last.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { massJobSummary, parseMassJobSummary } from '../../core/mass/mass-job-summary.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'
import type { MassSendJobFinishEvent } from '../../core/normalize/message-types.ts'

test('written and read back; a summary of another kind is none', () => {
  const fields = { ToUserName: 'gh_1', FromUserName: 'oSystem', CreateTime: '1394524295', MsgType: 'event', Event: 'MASSSENDJOBFINISH', MsgID: '1988', Status: 'sendsuccess', TotalCount: '100', FilterCount: '80', SentCount: '75', ErrorCount: '5' }
  const normalized = normalizeMessage(fields)
  assert.ok(normalized.ok, JSON.stringify(normalized))
  const event = normalized.value as MassSendJobFinishEvent
  const line = massJobSummary({ ...event, status: 'send success' })
  assert.equal(line, 'msg_id=1988 total=100 filter=80 sent=75 error=5 status=send success')
  assert.deepEqual(parseMassJobSummary(line), { msgId: '1988', status: 'send success', totalCount: 100, filterCount: 80, sentCount: 75, errorCount: 5 })
  assert.equal(parseMassJobSummary(massJobSummary({ ...event, status: 'err(30003)' }))?.status, 'err(30003)')
  assert.equal(parseMassJobSummary('qrscene_123'), undefined)
  assert.equal(parseMassJobSummary(undefined), undefined)
})
