import path from 'node:path'

/**
 * Where `npm run build:binary -- --out <file>` writes: npm runs the script from the package root, so a
 * relative --out typed in a subfolder was taken from the root, not from where it was typed. npm says where
 * that was in INIT_CWD; without it (the script run by hand), the working directory is that place already.
 */
export function outPath(out: string | undefined, initCwd: string | undefined): string | undefined {
  if (out === undefined || !initCwd) return out
  return path.resolve(initCwd, out)
}
