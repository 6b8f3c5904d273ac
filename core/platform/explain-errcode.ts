/**
 * A platform refusal in plain words, worded alike by every command that calls the API (`menu push`,
 * `qrcode create`, `mass`): each keeps its own table of the errcodes it meets, WeChat's global list being
 * too long and too vague to carry whole.
 */
export function explainErrcode(errcode: number, meanings: Readonly<Record<number, string | undefined>>): string {
  const meaning = meanings[errcode]
  return meaning ? `WeChat refused it with errcode ${errcode}: ${meaning}` : `WeChat refused it with errcode ${errcode} (no plain words for it here; look it up in WeChat's global error codes)`
}
