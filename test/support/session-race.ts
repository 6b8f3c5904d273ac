/**
 * The session-race fixture (test/fixtures/session-race) as options for startHarness: one plaintext account,
 * `main`, and the slowlock dialogue (a text with "slow" starts it and is answered 300 ms later; "hello" is a
 * rule's reply; a follow is welcomed). The tests of the user's lock and of an unsubscribe's clean-up drive it,
 * and each read the fixture into the same options.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import type { AccountConfig } from '../../core/config/config-types.ts'
import type { HarnessOptions } from './engine-harness.ts'
import { REPO } from './engine-process.ts'

const FIXTURE = path.join(REPO, 'test/fixtures/session-race')

const ACCOUNTS: AccountConfig[] = [{ id: 'main', token: 'maintoken', appId: 'wxmain0000000001', mode: 'plaintext' }]

/** Add a `config` by spreading: `{ ...SESSION_RACE, config: { limits: ... } }`. */
export const SESSION_RACE: HarnessOptions = {
  accounts: ACCOUNTS,
  plugins: path.join(FIXTURE, 'plugins'),
  rules: { 'main.yaml': readFileSync(path.join(FIXTURE, 'rules/main.yaml'), 'utf8') },
}
