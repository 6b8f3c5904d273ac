/**
 * A throwaway project for a test of plugins through the test kit: plugins/<name>/index.ts from source
 * text, rules files from YAML text. `remove()` deletes it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'

export interface PluginProject {
  root: string
  /** Writes (or rewrites) plugins/<name>/index.ts. */
  plugin(name: string, source: string): void
  remove(): void
}

export function pluginProject(files: { plugins?: Record<string, string>; rules?: Record<string, string> }, label = 'plugins'): PluginProject {
  const root = mkdtempSync(path.join(os.tmpdir(), `wxengine-${label}-`))
  const plugin = (name: string, source: string) => {
    mkdirSync(path.join(root, 'plugins', name), { recursive: true })
    writeFileSync(path.join(root, 'plugins', name, 'index.ts'), source)
  }
  mkdirSync(path.join(root, 'plugins'))
  mkdirSync(path.join(root, 'rules'))
  for (const [name, source] of Object.entries(files.plugins ?? {})) plugin(name, source)
  for (const [file, yaml] of Object.entries(files.rules ?? {})) writeFileSync(path.join(root, 'rules', file), yaml)
  return { root, plugin, remove: () => rmSync(root, { recursive: true, force: true }) }
}
