/**
 * `wxengine build`: the single executable at dist/wxengine (core/binary/build-binary.ts does the work).
 * It needs the source tree and its node_modules (esbuild, postject), so the binary itself cannot run it.
 */
import { isSingleBinary } from '../../binary/sea-assets.ts'
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE, shownPath, stdio, type Output } from '../cli-context.ts'

export interface BuildFlags {
  out?: string
  strip?: boolean
  reproducible?: boolean
}

/** Through a variable, so that bundling the CLI for the binary does not pull the build tools in. */
const BUILDER = '../../binary/build-binary.ts'

export async function runBuild(flags: BuildFlags, io: Output = stdio): Promise<number> {
  if (isSingleBinary()) {
    io.err('wxengine build: run it from a wxengine source checkout (npm run build:binary); a built binary cannot rebuild itself')
    return EXIT_USAGE
  }
  const { buildBinary } = (await import(BUILDER)) as typeof import('../../binary/build-binary.ts')
  try {
    const r = await buildBinary({ out: flags.out, strip: flags.strip, reproducible: flags.reproducible, progress: (line) => io.err(line) })
    io.out(`built ${shownPath(r.file)}: ${(r.bytes / 1e6).toFixed(1)} MB in ${(r.ms / 1000).toFixed(1)} s (embeds node ${process.version}, ${process.platform}-${process.arch})`)
    return EXIT_OK
  } catch (e) {
    const err = e as Error & { stderr?: Buffer }
    io.err(`wxengine build failed: ${err.message}${err.stderr ? `\n${err.stderr.toString()}` : ''}`)
    return EXIT_FAILED
  }
}
