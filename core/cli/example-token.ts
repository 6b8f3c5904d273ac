/**
 * The token of the repository's example engine.config.ts. It is public, so anyone can sign pushes with
 * it: `start` warns about an account that serves with it, and `rules check` does too (so `--strict` fails
 * a deploy that still has it).
 */
export const EXAMPLE_TOKEN = 'wxenginedev'

/** The warning for each account that still has it. */
export function exampleTokenWarnings(accounts: ReadonlyArray<{ id: string; token: string }>): Array<{ account: string; message: string }> {
  return accounts
    .filter((a) => a.token === EXAMPLE_TOKEN)
    .map((a) => ({ account: a.id, message: `account "${a.id}" serves with the example token "${EXAMPLE_TOKEN}", which anyone can sign pushes with: set its own (WECHAT_TOKEN for the default account)` }))
}
