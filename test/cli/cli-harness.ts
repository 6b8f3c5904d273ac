/**
 * Runs the CLI as a user would: a child process (`node --import tsx core/cli/main.ts ...`) in a temporary
 * project directory made from test/fixtures/cli-project, with its own DATA_DIR.
 */
import { spawn } from 'node:child_process'
import { cpSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import assert from 'node:assert/strict'
import { loadConfig } from '../../core/config/load-config.ts'
import { createLogger } from '../../core/log/logger.ts'
import { startRuntime } from '../../core/runtime.ts'
import { createWeChatSimulator, type PushFields } from '../../core/testkit/wechat-simulator.ts'

export const REPO = fileURLToPath(new URL('../..', import.meta.url))
export const FIXTURE_PROJECT = path.join(REPO, 'test/fixtures/cli-project')
export const MAIN = path.join(REPO, 'core/cli/main.ts')
/** Absolute, so that a child whose working directory is outside the repo still finds tsx. */
export const TSX = import.meta.resolve('tsx')

export interface CliResult {
  code: number | null
  stdout: string
  stderr: string
}

export interface Project {
  dir: string
  dataDir: string
  env: NodeJS.ProcessEnv
  /** Run `wxengine <args>`, by default with the project as working directory. */
  run(args: string[], opts?: { env?: NodeJS.ProcessEnv; cwd?: string }): Promise<CliResult>
  remove(): void
}

export function makeProject(): Project {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-cli-'))
  cpSync(FIXTURE_PROJECT, dir, { recursive: true })
  const dataDir = path.join(dir, 'data')
  // Only what the test sets: no PORT, WECHAT_* or DATA_DIR from the developer's shell.
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir }
  return {
    dir,
    dataDir,
    env,
    run: (args, opts = {}) => runCommand(process.execPath, ['--import', TSX, MAIN, ...args], { cwd: opts.cwd ?? dir, env: { ...env, ...opts.env } }),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

export function runCommand(file: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/**
 * Sends `pushes`, in order, through one in-process engine on the project's SQLite file, as a server would
 * write them, each signed (and encrypted) for its account and answered 200; the engine is closed after.
 */
export async function pushThroughEngine(project: Project, pushes: readonly { accountId: string; fields: PushFields }[]): Promise<void> {
  const loaded = loadConfig({ root: project.dir, env: { DATA_DIR: project.dataDir } })
  assert.ok(loaded.ok)
  const runtime = await startRuntime(loaded.value, { listen: false, log: createLogger({ level: 'silent' }) })
  try {
    for (const { accountId, fields } of pushes) {
      const sim = createWeChatSimulator({ account: loaded.value.accounts.find((a) => a.id === accountId)! })
      const req = sim.request(fields)
      const res = await runtime.engine.handle({ method: 'POST', accountId, query: req.query, body: req.body })
      assert.equal(res.status, 200)
    }
  } finally {
    await runtime.close()
  }
}
