/**
 * A file's size next to a limit it passed, in MB: "10.1 MB, over the 10 MB". Rounded to the nearest tenth, a
 * file a few bytes over read "10 MB, over the 10 MB" (and a rules file "2.0 MB, over the 2 MB"), as if the
 * limit were wrong. Sizes are rounded up, so one over a limit always reads over it.
 */
export function megabytesUp(bytes: number): string {
  // Integer arithmetic: 3 MB is 30 tenths exactly, not 30.000000000000004 rounded up to 31.
  const tenths = Math.ceil((bytes * 10) / 1_048_576)
  return `${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)} MB`
}
