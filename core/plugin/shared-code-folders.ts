/**
 * Code plugins share: the folders of plugins/ whose names start with `_` (plugins/_shared/db.ts). They are
 * not plugins (the load skips them), and every plugin's relative imports may reach them, as well as its own
 * folder: `import { db } from '../_shared/db.ts'`.
 *
 * Each plugin still loads its own copy: a shared file runs once in every sandbox that imports it, so its
 * module-level variables are not shared between plugins (storage is where plugins share data).
 *
 * One list for the sandbox's `require.root` (sandbox/load-plugin-module.ts) and for `wxengine rules check`'s
 * resolver (sandbox/resolve-like-sandbox.ts), so that the check finds what the load finds. Free of vm2.
 */
import { readdirSync, statSync, type Dirent } from 'node:fs'
import path from 'node:path'

/** Whether a folder of plugins/ holds shared code rather than a plugin. */
export function isSharedCodeFolder(name: string): boolean {
  return name.startsWith('_')
}

/**
 * Said after "plugin "_shared" is not in plugins/", where a rule or a setting names a shared folder: the folder
 * is there, and this is why it is no plugin. '' for any other name.
 */
export function sharedFolderNote(name: string): string {
  return isSharedCodeFolder(name) ? ' (a folder whose name starts with _ holds code plugins share; it is not loaded as a plugin)' : ''
}

/** The shared-code folders of `pluginsDir`, absolute and sorted; [] when there are none or it cannot be read. */
export function sharedCodeFolders(pluginsDir: string): string[] {
  try {
    return readdirSync(pluginsDir, { withFileTypes: true })
      .filter((d) => isSharedCodeFolder(d.name) && isFolder(d, pluginsDir))
      .map((d) => path.join(pluginsDir, d.name))
      .sort()
  } catch {
    return []
  }
}

/** A folder, or a link to one (plugins/_shared -> ../lib): the sandbox follows links to the real place. */
function isFolder(d: Dirent, parent: string): boolean {
  if (d.isDirectory()) return true
  try {
    return d.isSymbolicLink() && statSync(path.join(parent, d.name), { throwIfNoEntry: false })?.isDirectory() === true
  } catch {
    return false // a link the engine may not follow (EACCES, a loop): no folder the sandbox could read either
  }
}

/** Where the plugin in `pluginDir` may import from: its own folder, then the shared folders beside it. */
export function importRootsOf(pluginDir: string): string[] {
  const dir = path.resolve(pluginDir)
  return [dir, ...sharedCodeFolders(path.dirname(dir))]
}
