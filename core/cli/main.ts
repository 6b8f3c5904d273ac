#!/usr/bin/env node
/**
 * The `wxengine` command from the source tree. The commands are wired in program.ts; this entry only runs
 * them, because the single binary (core/binary/binary-main.ts) is CommonJS and cannot hold a top-level await.
 */
import { exitQuietlyWhenStdoutCloses } from './cli-context.ts'
import { buildCli } from './program.ts'
import { returnToTypedFolder } from './typed-folder.ts'

exitQuietlyWhenStdoutCloses()
const project = returnToTypedFolder()
await buildCli({ project }).parseAsync(process.argv)
