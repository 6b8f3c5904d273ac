/**
 * An inline reply's `file:` made a MediaFile: the path resolved against the rules file's folder, not yet read
 * (checkMediaFiles fills in its size and sha256). Shared by a valid file's parse and by the checks that still
 * run on a file with schema errors (still-checkable.ts).
 */
import nodePath from 'node:path'
import type { MediaFile, RuleLoadError } from '../rule-types.ts'
import type { MediaType } from './media-file.ts'

export interface InlineMediaReply {
  type: string
  file: string
  title?: string
  description?: string
}

export function mediaFileOf(reply: InlineMediaReply, rulesFile: string, where: RuleLoadError): MediaFile {
  return {
    type: reply.type as MediaType,
    file: reply.file,
    path: nodePath.resolve(nodePath.dirname(rulesFile), reply.file),
    at: `${where.file}:${where.line}${where.column === undefined ? '' : `:${where.column}`}`,
    sha256: '',
    bytes: 0,
    ...(reply.title === undefined ? {} : { title: reply.title }),
    ...(reply.description === undefined ? {} : { description: reply.description }),
  }
}
