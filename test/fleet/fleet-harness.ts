/**
 * A fleet for tests: N real engine processes (the CLI's `start`) on their own ports, all with
 * STORE=redis on one REDIS_URL and each with its own DATA_DIR, as docs/scaling.md tells operators to run
 * them. They share one project folder (the same rules and plugins deployed everywhere).
 *
 * The project holds the repo's example rules and plugins (echo, survey, ...), the engine fixtures
 * (counter, sleeper), the fleet fixtures (caller: calls the platform API) and the session-race dialogue
 * (slowlock).
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { REPO, spawnEngine, type EngineProcess } from '../support/engine-process.ts'

const FIXTURES = path.join(REPO, 'test/fixtures')

/** A temp project: engine.config.ts from `config`, rules/ and plugins/ from the repo and the fixtures. */
export function makeFleetProject(config: Record<string, unknown>): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-fleet-'))
  const rules = path.join(dir, 'rules')
  const plugins = path.join(dir, 'plugins')
  cpSync(path.join(REPO, 'rules'), rules, { recursive: true })
  cpSync(path.join(FIXTURES, 'engine-rules/engine.yaml'), path.join(rules, 'engine.yaml'))
  cpSync(path.join(FIXTURES, 'fleet-rules/fleet.yaml'), path.join(rules, 'fleet.yaml'))
  cpSync(path.join(REPO, 'plugins'), plugins, { recursive: true })
  for (const from of ['engine-plugins', 'fleet-plugins', 'session-race/plugins']) {
    for (const name of readdirSync(path.join(FIXTURES, from))) {
      cpSync(path.join(FIXTURES, from, name), path.join(plugins, name), { recursive: true })
    }
  }
  writeFileSync(path.join(dir, 'engine.config.ts'), `export default ${JSON.stringify(config, null, 2)}\n`)
  return dir
}

export interface Fleet {
  instances: EngineProcess[]
  /** Each instance's DATA_DIR (its own SQLite message log and outbox); removed by stop(). */
  dataDirs: string[]
  /** SIGTERM every instance (SIGKILL after `graceMs`), wait for the exits, remove the project. */
  stop(graceMs?: number): Promise<void>
}

/** Every engine this module started and has not seen exit: killed if the test process exits first. */
const live = new Set<EngineProcess>()
process.on('exit', () => {
  for (const e of live) e.child.kill('SIGKILL')
})

export async function startFleet(opts: { size: number; redisUrl: string; config: Record<string, unknown>; env?: Record<string, string> }): Promise<Fleet> {
  const project = makeFleetProject(opts.config)
  const instances: EngineProcess[] = []
  const dataDirs: string[] = []
  const stop = async (graceMs = 8000) => {
    await Promise.all(
      instances.map(async (e) => {
        if (e.child.exitCode === null && e.child.signalCode === null) {
          e.child.kill('SIGTERM')
          const timer = setTimeout(() => e.child.kill('SIGKILL'), graceMs)
          await e.exited
          clearTimeout(timer)
        }
        live.delete(e)
      }),
    )
    rmSync(project, { recursive: true, force: true })
  }
  try {
    // One at a time: two processes compiling the same plugins at once only slows both down.
    for (let i = 0; i < opts.size; i++) {
      const dataDir = path.join(project, `data-${i}`)
      mkdirSync(dataDir)
      dataDirs.push(dataDir)
      const engine = await spawnEngine(project, { STORE: 'redis', REDIS_URL: opts.redisUrl, DATA_DIR: dataDir, ...opts.env })
      live.add(engine)
      instances.push(engine)
    }
  } catch (err) {
    await stop(1000)
    throw err
  }
  return { instances, dataDirs, stop }
}

/** The engine's JSON log lines (pino), unparsable lines skipped. */
export function logLines(engine: EngineProcess): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = []
  for (const line of engine.output().split('\n')) {
    if (!line.startsWith('{')) continue
    try {
      out.push(JSON.parse(line) as Record<string, unknown>)
    } catch {
      // a line cut in the middle of a write
    }
  }
  return out
}

/** Polls `check` every 20 ms until it returns a value other than undefined/false; throws `what` after `ms`. */
export async function until<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms
  for (;;) {
    const v = await check()
    if (v !== undefined && v !== false) return v
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
