/**
 * accountWarnings (core/config/account-warnings.ts): settings an engine starts with that will not do what
 * was meant, said by `start` and `rules check`.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { accountWarnings } from '../../core/config/account-warnings.ts'

const account = (id: string, originalId?: string) => ({ id, token: `tok-${id}`, appId: 'wx0123456789abcdef', appSecret: 's', ...(originalId ? { originalId } : {}) })

test('two accounts with one original id: the second is named as a copy of the first (a gh_ id is one Official Account)', () => {
  const warnings = accountWarnings([account('alpha', 'gh_0123456789ab'), account('beta', 'GH_0123456789AB'), account('gamma', 'gh_ba9876543210'), account('delta')])
  assert.deepEqual(
    warnings.filter((w) => w.setting === 'originalId'),
    [
      {
        account: 'beta',
        setting: 'originalId',
        message: 'account "beta" has the originalId of account "alpha" (GH_0123456789AB): an original id is one Official Account\'s, so one of the two is a copy; `wxengine send` addresses its pushes to it (WECHAT_ORIGINAL_ID for the default account)',
      },
    ],
  )
})
