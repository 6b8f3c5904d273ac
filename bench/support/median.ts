/** The middle value of a bench's rounds (the upper middle of an even count): a busy moment hits one round, not the median. */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
}
