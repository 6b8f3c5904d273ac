/**
 * A platform refusal in plain words, worded alike by every command that calls the API (`menu push`,
 * `qrcode create`, `mass`): each keeps its own table of the errcodes it meets, WeChat's global list being
 * too long and too vague to carry whole.
 */
export function explainErrcode(errcode: number, meanings: Readonly<Record<number, string | undefined>>): string {
  const meaning = meanings[errcode]
  return meaning ? `WeChat refused it with errcode ${errcode}: ${meaning}` : `WeChat refused it with errcode ${errcode} (no plain words for it here; look it up in WeChat's global error codes)`
}

/**
 * The errcode a command explains as its API's refusal, or undefined: none for a failure of the access_token
 * under the call (`ofAccessToken`, platform-api.ts), whose errcode is /cgi-bin/token's and whose reason already
 * says what to change. Explained as the command's own, a token's 45009 read as the menu API's quota used up,
 * and the IP whitelist's 40164 as "WeChat refused it ... (no plain words for it here)".
 */
export function refusalErrcode(failed: { error: { errcode?: number }; ofAccessToken?: true }): number | undefined {
  return failed.ofAccessToken ? undefined : failed.error.errcode
}
