/**
 * `wxengine test [paths...]`: runs the project's plugin tests (test/plugins/ by default) on node's test
 * runner, in this process, with `wxengine/testkit`, `wxengine/plugin` and `wxengine/config` provided by the
 * engine. The same command works from a source checkout and from the single binary, where there is no
 * node_modules and no TypeScript toolchain to run `node --test` with.
 *
 * Each file becomes one suite named by its path, so its before/after hooks stay its own. node's runner
 * reports (spec on a terminal, TAP otherwise) and sets the exit code: 1 when a test or a file fails.
 */
import { readdirSync, statSync } from 'node:fs'
import path from 'node:path'
import { describe } from 'node:test'
import * as configApi from '../../config/config-types.ts'
import * as pluginApi from '../../plugin/plugin-api.ts'
import * as testkit from '../../testkit/plugin-test-client.ts'
import { createProjectTestLoader } from '../../testkit/project-test-loader.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, shownPath, stdio, type GlobalFlags, type Output } from '../cli-context.ts'

/** Where `wxengine plugin new` writes its tests. */
export const DEFAULT_TEST_DIR = path.join('test', 'plugins')
const TEST_FILE = /\.test\.(ts|mts|cts|js|mjs|cjs)$/

export interface TestFlags extends GlobalFlags {
  /** Files or folders, relative to the working directory; none means <root>/test/plugins. */
  paths: string[]
}

export async function runTest(flags: TestFlags, io: Output = stdio): Promise<number> {
  const targets = flags.paths.length > 0 ? flags.paths.map((p) => path.resolve(p)) : [path.resolve(flags.root, DEFAULT_TEST_DIR)]
  const files: string[] = []
  for (const target of targets) {
    let isDir: boolean
    try {
      isDir = statSync(target).isDirectory()
    } catch {
      io.err(`wxengine test: ${shownPath(target)} does not exist${flags.paths.length === 0 ? ' (tests are looked for in test/plugins/ of the project; name files or folders to run others)' : ''}`)
      return EXIT_USAGE
    }
    files.push(...(isDir ? testFilesUnder(target) : [target]))
  }
  if (files.length === 0) {
    // Exit 1, not 0: a CI step running no tests at all has most likely been pointed at the wrong place.
    io.err(`wxengine test: no test files (*.test.ts, *.test.js) in ${targets.map(shownPath).join(', ')}`)
    return EXIT_FAILED
  }

  // The package's three entry points (package.json "exports"), as a checkout resolves them.
  const loader = createProjectTestLoader({ 'wxengine/testkit': testkit, 'wxengine/plugin': pluginApi, 'wxengine/config': configApi })
  for (const file of [...new Set(files)]) {
    describe(shownPath(file), () =>
      loader.runTestFile(file).catch((e: unknown) => {
        // A file that does not load (a syntax error, a missing import): node 22.23 reports its suite as
        // `not ok` but left the exit code at 0, so a broken test file passed CI. Set here, on every version.
        process.exitCode = EXIT_FAILED
        throw e
      }),
    )
  }
  // node's runner runs the suites once this returns, and sets process.exitCode to 1 if any fails.
  return EXIT_OK
}

function testFilesUnder(dir: string): string[] {
  const found: string[] = []
  for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.name === 'node_modules' || entry.name.startsWith('.')) continue
    const full = path.join(dir, entry.name)
    if (entry.isDirectory()) found.push(...testFilesUnder(full))
    else if (TEST_FILE.test(entry.name)) found.push(full)
  }
  return found
}
