/**
 * Hot reload: when a file under rules/ or plugins/ changes, load a whole new generation and swap it in.
 * Changes are debounced (an editor's save is several events); reloads never overlap; a change that does not
 * load keeps the last good generation and logs why, with file:line for rules. Files outside those folders
 * that the rules read (a media file a reply names, `file: ../assets/qr.png`) are watched one by one, not
 * their folders: `..` may be the project's root, data directory included. So are engine.config.ts and the
 * project's files it imports, when the runtime reads them again at a reload (runtime.ts rereadConfig).
 */
import { statSync } from 'node:fs'
import path from 'node:path'
import chokidar from 'chokidar'
import { isInside } from '../is-inside.ts'
import type { Logger } from '../log/logger.ts'
import type { Generations } from './generations.ts'
import type { LoadedParts } from './load-generation.ts'
import { refusalLine } from './refusal-line.ts'

/**
 * What changed since the serving generation was loaded: the files the watcher saw change, or 'everything'
 * (an explicit reload: SIGHUP, runtime.reload()). A reload starts again only the plugins whose folder or
 * settings changed (plugins-to-restart.ts).
 */
export type ChangedSources = ReadonlySet<string> | 'everything'

export interface SourceWatcher {
  /**
   * Resolves once the watcher has scanned its folders and watches them: an edit made after this is seen.
   * (Before it, chokidar may still be setting up its watches: an edit then can go unnoticed, which on Node 22
   * was the first edit after start-up, every time.) Resolves at once when nothing is watched.
   */
  ready: Promise<void>
  /**
   * Reload now, taking `changed` as changed besides what the watcher saw: by default everything, plugins'
   * workers included (SIGHUP, runtime.reload()); an empty set for the rules alone (a media file uploaded at
   * last). A file change reloads by itself. Resolves with whether the new set was taken.
   */
  reload(changed?: ChangedSources): Promise<boolean>
  /**
   * The files the rules read now (media files): those outside the watched folders are watched from now on,
   * in place of the last list's. Nothing when no folder is watched (the watch is off).
   */
  watchFiles(files: readonly string[]): void
  close(): Promise<void>
}

/** How often a watched folder that does not exist is looked for. */
const LOOK_EVERY_MS = 1000

function isDirectory(dir: string): boolean {
  return statSync(dir, { throwIfNoEntry: false })?.isDirectory() === true
}

export function watchSources(opts: {
  dirs: string[]
  /** Files outside `dirs` to watch from the start (watchFiles). */
  files?: readonly string[]
  generations: Generations
  load: (changed: ChangedSources) => Promise<LoadedParts>
  log: Logger
  debounceMs?: number
  onReload?: (ok: boolean) => void
}): SourceWatcher {
  const { generations, log } = opts
  let running: Promise<boolean> | null = null
  let queued: Promise<boolean> | null = null
  let timer: NodeJS.Timeout | undefined
  /**
   * Set by close(). A reload still running then ends after it, and its onReload (runtime.ts) hands over its
   * files: chokidar's add() on a closed watcher opens it again, and its watches kept the process alive.
   */
  let closed = false
  /**
   * Changes no reload has taken in yet. A reload takes them all; a refused one puts them back, so that the
   * next one, after the fix, still sees a plugin edited beside the broken rules file.
   */
  let pending: Set<string> | 'everything' = new Set()
  const note = (change: string | 'everything') => {
    if (change === 'everything') pending = 'everything'
    else if (pending !== 'everything') pending.add(change)
  }
  const merged = (a: ChangedSources, b: ChangedSources): Set<string> | 'everything' =>
    a === 'everything' || b === 'everything' ? 'everything' : new Set([...a, ...b])

  async function reloadOnce(): Promise<boolean> {
    const started = performance.now()
    const changed = pending
    pending = new Set()
    const refused = () => {
      pending = merged(changed, pending)
      opts.onReload?.(false)
      return false
    }
    let parts: LoadedParts
    try {
      parts = await opts.load(changed)
    } catch (e) {
      // A load that throws (a folder removed while it was read) is refused like a broken edit: this runs
      // from a timer, where a rejection would end the process.
      log.error({ code: 'RULE_INVALID', reason: (e as Error).message }, `reload failed, keeping the last good set: ${(e as Error).message}`)
      return refused()
    }
    if (!parts.ok) {
      const line = refusalLine(parts.problems)
      log.error({ code: parts.code, ...line.fields }, line.msg)
      return refused()
    }
    for (const w of parts.warnings) log.warn(w)
    for (const n of parts.notes) log.info(n)
    const g = generations.swap({ rules: parts.rules, plugins: parts.plugins, userGroups: parts.userGroups, pageDomains: parts.pageDomains, slowestPluginMs: parts.slowestPluginMs })
    const what = parts.pluginsKept
      ? 'reloaded rules; plugins kept running (no change under plugins/ or in their settings)'
      : parts.pluginChanges
        ? `reloaded rules and plugins (${pluginChangesText(parts.pluginChanges)})`
        : 'reloaded rules and plugins'
    log.info({ generation: g.id, ms: Math.round(performance.now() - started), ...parts.rules.size, plugins: parts.plugins.names() }, what)
    opts.onReload?.(true)
    return true
  }

  /** An asked-for reload (SIGHUP, runtime.reload(), a media upload); a file change reloads through scheduleReload. */
  function reloadAsked(changed: ChangedSources = 'everything'): Promise<boolean> {
    if (changed === 'everything') note('everything')
    else for (const file of changed) note(file)
    return reload()
  }

  function reload(): Promise<boolean> {
    if (!running) {
      running = reloadOnce().finally(() => {
        running = null
      })
      return running
    }
    // The running reload may have read the files before the change that asked for this one: answer with
    // one more reload after it, shared by everyone who asks meanwhile.
    queued ??= running.then(
      () => {
        queued = null
        return reload()
      },
      () => {
        queued = null
        return reload()
      },
    )
    return queued
  }

  const inDirs = (file: string) => opts.dirs.some((dir) => isInside(dir, file))
  const outside = (files: readonly string[]) => new Set(opts.dirs.length === 0 ? [] : files.map((f) => path.resolve(f)).filter((f) => !inDirs(f)))
  let files = outside(opts.files ?? [])

  // Dot files and node_modules in the folders are not sources (an editor's swap file, a plugin's dependencies);
  // a file named on its own (a media file outside them) is watched whatever its name.
  const ignored = (p: string) => !files.has(p) && /(^|[/\\])(\.|node_modules)/.test(p.split(/[/\\]/).pop() ?? '')
  // chokidar is given the folders that exist. Given one that does not (a project without plugins/), it
  // watches the parent for it, and that went wrong: its `ready` came before the other folders were watched
  // (the first edit after start went unseen), and a second folder missing from the same parent (rules/ moved
  // away and back) was never seen again, nor any edit in it. A missing folder is looked for instead.
  const missing = new Set(opts.dirs.filter((dir) => !isDirectory(dir)))
  const present = opts.dirs.filter((dir) => !missing.has(dir))
  const scheduleReload = () => {
    clearTimeout(timer)
    timer = setTimeout(() => void reload(), opts.debounceMs ?? 150)
  }
  let lookTimer: NodeJS.Timeout | undefined
  /** Every LOOK_EVERY_MS while a folder is missing: one that appeared is watched, and the sources reloaded. */
  const lookForMissing = () => {
    if (lookTimer || missing.size === 0 || closed) return
    lookTimer = setInterval(() => {
      for (const dir of missing) {
        if (!isDirectory(dir)) continue
        missing.delete(dir)
        watcher.add(dir)
        log.debug({ dir }, 'source folder appeared')
        note(dir)
        scheduleReload()
      }
      if (missing.size === 0) {
        clearInterval(lookTimer)
        lookTimer = undefined
      }
    }, LOOK_EVERY_MS)
    lookTimer.unref()
  }
  const watcher = chokidar.watch([...present, ...files], { ignoreInitial: true, ignored })
  watcher.on('all', (event, file) => {
    log.debug({ file }, 'source changed')
    note(path.resolve(file))
    // chokidar stops watching a folder it was given once that folder is removed (moved away, a git
    // checkout): it is looked for until it comes back, then watched again, and later edits are seen.
    if (event === 'unlinkDir' && opts.dirs.includes(file)) {
      watcher.unwatch(file)
      missing.add(file)
      lookForMissing()
    }
    // So does a file outside them once it is removed (rm then cp, a checkout; a rename over it is a change),
    // when folders are watched too: the file made again, and every later edit, went unseen.
    if (event === 'unlink' && files.has(file)) {
      watcher.unwatch(file)
      watcher.add(file)
    }
    scheduleReload()
  })
  watcher.on('error', (e) => log.error({ err: e }, 'file watcher error'))
  lookForMissing()
  // chokidar given nothing to watch never says it is ready.
  const ready = opts.dirs.length === 0 || present.length + files.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => watcher.once('ready', () => resolve()))

  return {
    ready,
    reload: reloadAsked,
    watchFiles(next) {
      if (closed) return
      const wanted = outside(next)
      const gone = [...files].filter((f) => !wanted.has(f))
      const added = [...wanted].filter((f) => !files.has(f))
      files = wanted
      if (gone.length > 0) watcher.unwatch(gone)
      if (added.length > 0) watcher.add(added)
    },
    async close() {
      closed = true
      clearTimeout(timer)
      clearInterval(lookTimer)
      // chokidar (4 and 5) opens a closed watcher again: an event already in flight at close() (a file's stat, a
      // folder's read) that finds a file gone calls the watcher's own add() to watch for its return, and add()
      // clears `closed` and watches the folder, with nothing left to close it: the stopped engine said
      // "stopped" and never ended. Files removed just as it stopped (a test's clean-up, a checkout) did it
      // about one time in two. Nothing adds to the watcher after this (watchFiles checks `closed`) but chokidar.
      watcher.add = () => watcher
      await watcher.close()
      await (queued ?? running)
    },
  }
}

/** "started again: echo; kept running: 7 others": a change to some plugins only. A stopped plugin was a folder removed, or disabled. */
function pluginChangesText(changes: { started: string[]; stopped: string[]; kept: number }): string {
  const restarted = changes.started.filter((n) => changes.stopped.includes(n))
  const added = changes.started.filter((n) => !changes.stopped.includes(n))
  const removed = changes.stopped.filter((n) => !changes.started.includes(n))
  return [
    restarted.length > 0 && `started again: ${restarted.join(', ')}`,
    added.length > 0 && `started: ${added.join(', ')}`,
    removed.length > 0 && `stopped: ${removed.join(', ')}`,
    changes.kept > 0 && `kept running: ${changes.kept} other${changes.kept === 1 ? '' : 's'}`,
  ]
    .filter(Boolean)
    .join('; ')
}
