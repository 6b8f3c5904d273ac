/**
 * Temporary rules directories for one test file, removed after it: `const rulesDir = tempRulesDirs('x')`,
 * then `await rulesDir({ 'main.yaml': '...', 'shop/a.yaml': '...' })` (relative path -> YAML text).
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after } from 'node:test'

export function tempRulesDirs(prefix: string): (files: Record<string, string>) => Promise<string> {
  const roots: string[] = []
  after(async () => {
    for (const root of roots) await rm(root, { recursive: true, force: true })
  })
  return async (files) => {
    const root = await mkdtemp(join(tmpdir(), `wxengine-${prefix}-`))
    roots.push(root)
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(dirname(join(root, rel)), { recursive: true })
      await writeFile(join(root, rel), text)
    }
    return root
  }
}
