/**
 * What WeChat accepts in a subscription notice's keyword, by the keyword's type: the name without its number
 * (`thing1` is a `thing`, `character_string2` a `character_string`). A value past these the platform refuses
 * with a bare 47003 "argument invalid" that names no field, and a value over a length is the common mistake
 * (a product name in a `thing`, which takes 20 characters).
 *
 * Only what the platform's documentation states plainly is checked, and where it is unclear the check is
 * the lenient one, since a notice refused here that WeChat would have taken is worse than a 47003:
 * - lengths are counted in characters (code points): an emoji is one here, two if WeChat counts UTF-16;
 * - `number` may be negative here (the documentation says digits with a decimal point, no word on a sign),
 *   and its limit counts digits, not the point;
 * - `name`'s limit is 10 when the value has a Chinese character, else 20: whether a mix of Chinese and
 *   letters is refused is not checked;
 * - `symbol` and `car_number` by length alone (which symbols, which plates: not said precisely enough);
 * - `time`, `date` and `amount` not at all: each has several formats ("15:01", "2019年10月1日 15:01", a range
 *   with "~", a currency sign or "元"), and a check that missed one would refuse good notices;
 * - a type not listed here (a new one) not at all;
 * - an empty value not at all.
 */

interface KeywordRule {
  /** The most characters (digits for `number`), or for `name`, Latin text's; Chinese text's is `maxChinese`. */
  max: number
  maxChinese?: number
  /** The characters it may hold, said in words after "takes". */
  only?: { test: (text: string) => boolean; said: string }
  /** What is counted against `max`; default every character. */
  count?: (text: string) => number
}

const HAN = /\p{Script=Han}/u
const chars = (text: string): number => [...text].length

const RULES: Record<string, KeywordRule> = {
  thing: { max: 20 },
  number: { max: 32, count: (t) => t.replace(/\D/g, '').length, only: { test: (t) => /^-?\d+(?:\.\d+)?$/.test(t), said: 'digits, with a decimal point if need be' } },
  letter: { max: 32, only: { test: (t) => /^[A-Za-z]*$/.test(t), said: 'letters (A-Z, a-z) only' } },
  symbol: { max: 5 },
  character_string: { max: 32, only: { test: (t) => !HAN.test(t), said: 'letters, digits and symbols, no Chinese characters' } },
  phrase: { max: 5, only: { test: (t) => /^\p{Script=Han}*$/u.test(t), said: 'Chinese characters only (such as 配送中)' } },
  name: { max: 20, maxChinese: 10 },
  phone_number: { max: 17, only: { test: (t) => !/[A-Za-z]/.test(t) && !HAN.test(t), said: 'digits and symbols only (such as +86-0766-66888866)' } },
  car_number: { max: 8 },
}

/** A keyword's type: its name without the number (`thing1` -> `thing`). */
export function keywordType(name: string): string {
  return name.replace(/\d+$/, '')
}

/**
 * Why WeChat would refuse `text` as the value of keyword `name` (its type, the limit and what was given), or
 * undefined when it would not, or when this is not known (see above).
 */
export function keywordProblem(name: string, text: string): string | undefined {
  const type = keywordType(name)
  const rule = Object.hasOwn(RULES, type) ? RULES[type] : undefined
  if (rule === undefined) return undefined
  const head = `${name} is a ${type} keyword`
  if (rule.only && !rule.only.test(text)) return `${head}, which takes ${rule.only.said}`
  const given = (rule.count ?? chars)(text)
  const unit = type === 'number' ? 'digits' : 'characters'
  if (rule.maxChinese !== undefined && HAN.test(text)) {
    return given > rule.maxChinese ? `${head}: at most ${rule.maxChinese} Chinese characters, got ${given}` : undefined
  }
  return given > rule.max ? `${head}: at most ${rule.max} ${unit}${rule.maxChinese !== undefined ? ` (${rule.maxChinese} if Chinese)` : ''}, got ${given}` : undefined
}
