/**
 * A plugin named on the command line that has no folder in plugins/ is said, not refused: its stored data
 * and its users' sessions outlive its removal and may still be read or ended (`wxengine storage`, `session`).
 */
import { didYouMean } from '../did-you-mean.ts'
import { listPluginFolders } from '../plugin/load-plugin-set.ts'
import { shownPath, type Output } from './cli-context.ts'

/** `note: plugin "walet" is not in plugins (did you mean "wallet"?)` on stderr, when it is not there. */
export function notePluginNotInProject(plugin: string, pluginsDir: string, io: Output): void {
  const folders = listPluginFolders(pluginsDir)
  if (!folders.includes(plugin)) io.err(`note: plugin "${plugin}" is not in ${shownPath(pluginsDir)}${didYouMean(plugin, folders)}`)
}
