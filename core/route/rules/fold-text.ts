/**
 * Folding applied to a keyword and to the text before they are compared (docs/rules.md "Folding").
 * The same function runs on both sides, so whatever it does, a keyword and a text that fold to the
 * same string match.
 */
import { withoutInvisible } from './invisible-characters.ts'

/** Index of a fold combination: bit 0 = case, bit 1 = width. At most four structures per scope. */
export type FoldCombo = 0 | 1 | 2 | 3

export const FOLD_COMBOS: readonly FoldCombo[] = [0, 1, 2, 3]

export function comboOf(foldCase: boolean, foldWidth: boolean): FoldCombo {
  return ((foldCase ? 1 : 0) | (foldWidth ? 2 : 0)) as FoldCombo
}

export function foldsCase(combo: FoldCombo): boolean {
  return (combo & 1) !== 0
}

export function foldsWidth(combo: FoldCombo): boolean {
  return (combo & 2) !== 0
}

/**
 * Text made only of characters NFKC leaves alone (ASCII, CJK Unified Ideographs, 、。) - most chat
 * messages - skips normalize(), which costs about 400 ns per message (test/route/rules holds the claim).
 */
export const NFKC_STABLE = /^[\t\n\r\x20-\x7e\u3001\u3002\u4e00-\u9fff]*$/

/**
 * Width first, then case: NFKC turns full-width Latin (ＨＥＬＬＯ) into ASCII, which toLowerCase then folds,
 * so `ＨＥＬＬＯ` and `hello` meet. NFKC also composes accents and folds other compatibility forms (see docs).
 * Width folding also drops invisible characters (a zero-width space inside `帮\u200b助`), before NFKC, so
 * that what they separated composes as if they were never there. None of them is in NFKC_STABLE.
 */
export function foldText(text: string, combo: FoldCombo): string {
  let out = foldsWidth(combo) && !NFKC_STABLE.test(text) ? withoutInvisible(text).normalize('NFKC') : text
  if (foldsCase(combo)) out = out.toLowerCase()
  return out
}
