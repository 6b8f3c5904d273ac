/**
 * Where a plugin worker's program comes from (core/binary/worker-program.ts says how): it is
 * core/plugin/sandbox/worker-main.ts and what it imports (vm2, sucrase, the reply helpers).
 */
import { workerProgram, type WorkerEntry } from '../binary/worker-program.ts'

export type { WorkerEntry }

/**
 * vm2 refuses sandbox requires of files under its own lib folder, which it finds from `__dirname`. In an
 * eval'd bundle `__dirname` is '.', the working directory, so every plugin file under it would be
 * refused ("Cannot find module './util'"). The bundle runs inside the CommonJS wrapper, so this line
 * re-points `__dirname` for every module in it, whichever bundler produced it.
 */
const BUNDLE_PRELUDE = `__dirname = ${JSON.stringify('/nonexistent/wxengine-plugin-worker/vm2/lib')};\n`

const program = workerProgram({
  name: 'plugin-worker',
  main: () => new URL('./sandbox/worker-main.ts', import.meta.url),
  // vm2 requires `typescript` and `coffee-script` lazily for compilers we never use: left out, they would add
  // ~10 MB (the team's notes, ../shared/binary-and-sandbox.md beside the repository).
  external: ['typescript', 'coffee-script'],
  prelude: BUNDLE_PRELUDE,
})

/** Called once by the binary's start-up with the string `bundleWorkerSource()` made at build time. */
export const useEmbeddedWorkerSource: (bundled: string) => void = program.useEmbedded
export const workerEntry: () => WorkerEntry = program.entry
export const fileWorkerEntry: () => WorkerEntry = program.fileEntry
/** The worker program as one CommonJS string. */
export const bundleWorkerSource: () => string = program.bundle
