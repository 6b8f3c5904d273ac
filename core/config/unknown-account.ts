/**
 * What is said about an account id the configuration does not have, wherever a person named it (a CLI
 * flag, a test's `{ account }`): the ones there are, and the one it resembles. One wording for every place.
 */
import { didYouMean } from '../did-you-mean.ts'

export function unknownAccount(id: string, known: readonly string[], where = 'the configuration'): string {
  return `no account "${id}" in ${where}${didYouMean(id, known)}; accounts: ${known.join(', ') || 'none'}`
}
