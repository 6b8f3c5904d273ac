/**
 * `npm run wxengine -- <command>` runs in the checkout's folder, whatever folder it was typed in: npm moves to
 * the package's folder and keeps the typed one in INIT_CWD. So a relative path typed there was taken from the
 * checkout's root: `npm run wxengine -- build --out rel` from a subfolder wrote `<checkout>/rel`, and
 * `qrcode image ... --out poster.jpg`, `rules check ./other` and `test ./mine` alike.
 *
 * That script (package.json) carries no argument of its own, so every path it runs with was typed: the command
 * goes back to the folder it was typed in, and the project stays the package npm found (the default of -C).
 * The same as typing `wxengine -C <checkout> ...` there. Any other script (a project's own, which may hold
 * paths relative to its package.json, as npm means them) is left where npm runs it.
 */
import path from 'node:path'

/** Moves back to the typed folder when run as this package's `wxengine` script; returns the project folder. */
export function returnToTypedFolder(env: NodeJS.ProcessEnv = process.env): string {
  const project = process.cwd()
  const typed = env.INIT_CWD
  if (env.npm_lifecycle_event !== 'wxengine' || env.npm_package_name !== 'wxengine' || !typed || path.resolve(typed) === project) return project
  try {
    process.chdir(typed)
  } catch {
    // The typed folder is gone (removed meanwhile): paths are then taken from the project, as npm left them.
  }
  return project
}
