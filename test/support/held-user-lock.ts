import assert from 'node:assert/strict'
import { UNSUBSCRIBING, type HeldUserLock } from '../../core/store/store.ts'

/** lockUser's answer for a test that takes no lock for an unsubscribe: the held lock or null, never UNSUBSCRIBING. */
export function lockOf(answer: HeldUserLock | null | typeof UNSUBSCRIBING): HeldUserLock | null {
  assert.notEqual(answer, UNSUBSCRIBING, 'no unsubscribe holds this lock')
  return answer as HeldUserLock | null
}
