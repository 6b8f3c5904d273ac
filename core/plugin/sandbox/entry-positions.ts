/**
 * Where in a plugin's entry file, as its author wrote it, a place V8 names in the code the sandbox ran is.
 * V8 counts in what it compiled: the entry after sucrase (types removed, imports rewritten as
 * `(0, _x.name)`, `"use strict";Object.defineProperty(exports, ...)` put before the first line), inside
 * vm2's module wrapper (`(function (exports, require, ...) { ` before the first line too). A throw at the
 * top of an index.ts was said at `index.ts:1:142`, and a handler's on an `export default` line dozens of
 * columns off. Lines stay where they were (sucrase keeps them); the column comes from sucrase's map.
 */
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { toCommonJsMapped } from '../../to-commonjs.ts'

/**
 * vm2's MODULE_PREFIX (vm2/lib/script.js), the wrapper NodeVM.run puts before an entry's first line. Written
 * out, not imported: this file is in the graph of the declarations `wxengine init` writes (via
 * describe-thrown.ts), which has no types for vm2's internals. A vm2 that changed it fails the first-line
 * test of test/plugin/author-mistakes.test.ts.
 */
const ENTRY_WRAPPER = '(function (exports, require, module, __filename, __dirname) { '

/** A place in a file, 1-based as V8 and editors count; no column when the map does not say it. */
export interface Place {
  line: number
  column?: number
}

/** One segment of a source map: a column of the compiled line, and where in the source it came from (0-based). */
interface Segment {
  column: number
  sourceLine: number
  sourceColumn: number
}

/** The source each entry ran from, by its name in the sandbox (sandboxEntryName): the map is of what ran, not of a later save. */
const ranFrom = new Map<string, string>()
/** Each entry's map, made when an error first needs it: a load that throws nothing pays no second transform. */
const maps = new Map<string, Segment[][] | undefined>()

/** Said by the load before it runs the entry `entryName` from `source` (sandbox/load-plugin-module.ts). */
export function rememberEntrySource(entryName: string, source: string): void {
  ranFrom.set(entryName, source)
  maps.delete(entryName)
}

/**
 * The place in the entry's source of `line`:`column` of the code V8 ran. Where the entry was not run in
 * this thread (a thread's crash, said by the engine), from the file as it is now.
 */
export function entryPlaceInSource(entryName: string, line: number, column: number): Place {
  // The entry runs as NodeVM.run runs a string: the sloppy wrapper, on the first line.
  return placeIn(mapOf(entryName), line, column - 1 - (line === 1 ? ENTRY_WRAPPER.length : 0))
}

/**
 * The place in `source` (the file `file`) of `line` and the 0-based `column` of what sucrase compiled it to
 * (the wrapper's columns taken off): for a SyntaxError V8 or vm2 marks in the compiled line (compile-plugin-sources.ts).
 */
export function compiledPlaceInSource(source: string, file: string, line: number, column: number): Place {
  let map: Segment[][] | undefined
  try {
    map = decodeMappings(toCommonJsMapped(source, file).mappings)
  } catch {
    map = undefined
  }
  return placeIn(map, line, column)
}

function placeIn(map: Segment[][] | undefined, line: number, compiled: number): Place {
  const segments = map?.[line - 1]
  if (!segments || segments.length === 0) return { line }
  let i = segments.length - 1
  while (i > 0 && segments[i].column > compiled) i--
  const at = segments[i]
  // Within a token, the columns run alike; in text sucrase put between two tokens, the next token is the place.
  const next = segments[i + 1]
  let sourceColumn = at.sourceColumn + Math.max(0, compiled - at.column)
  if (next && next.sourceLine === at.sourceLine) sourceColumn = Math.min(sourceColumn, next.sourceColumn)
  return { line: at.sourceLine + 1, column: sourceColumn + 1 }
}

function mapOf(entryName: string): Segment[][] | undefined {
  if (maps.has(entryName)) return maps.get(entryName)
  let map: Segment[][] | undefined
  try {
    const source = ranFrom.get(entryName) ?? readFileSync(path.resolve(entryName), 'utf8')
    map = decodeMappings(toCommonJsMapped(source, entryName).mappings)
  } catch {
    // Gone, or no longer compiling: the line is still right, the column unknown.
    map = undefined
  }
  maps.set(entryName, map)
  return map
}

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** A source map's `mappings` (one source): per compiled line, its segments in column order. */
function decodeMappings(mappings: string): Segment[][] {
  const lines: Segment[][] = []
  // Each field but the compiled column runs on from the previous segment, over lines too.
  let sourceLine = 0
  let sourceColumn = 0
  for (const text of mappings.split(';')) {
    const segments: Segment[] = []
    let column = 0
    for (const segment of text.split(',')) {
      if (segment === '') continue
      const fields = decodeVlq(segment)
      column += fields[0]
      if (fields.length < 4) continue
      sourceLine += fields[2]
      sourceColumn += fields[3]
      segments.push({ column, sourceLine, sourceColumn })
    }
    lines.push(segments.sort((a, b) => a.column - b.column))
  }
  return lines
}

function decodeVlq(segment: string): number[] {
  const values: number[] = []
  let value = 0
  let shift = 0
  for (const char of segment) {
    const digit = BASE64.indexOf(char)
    if (digit < 0) throw new Error(`not a source map digit: ${char}`)
    value += (digit & 31) << shift
    if (digit & 32) {
      shift += 5
      continue
    }
    values.push(value & 1 ? -(value >>> 1) : value >>> 1)
    value = 0
    shift = 0
  }
  return values
}
