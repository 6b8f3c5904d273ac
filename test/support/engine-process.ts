/**
 * Runs the engine as its own process through the real CLI (`wxengine start`), in a temporary project
 * with the repo's example rules and plugins, for tests that kill, restart or signal it.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { cpSync, mkdtempSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export const REPO = path.resolve(import.meta.dirname, '../..')

export function makeProject(config: Record<string, unknown>, opts: { plugins?: string; rules?: string } = {}): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-proc-'))
  cpSync(opts.rules ?? path.join(REPO, 'rules'), path.join(dir, 'rules'), { recursive: true })
  cpSync(opts.plugins ?? path.join(REPO, 'plugins'), path.join(dir, 'plugins'), { recursive: true })
  writeFileSync(path.join(dir, 'engine.config.ts'), `export default ${JSON.stringify(config, null, 2)}\n`)
  return dir
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port
      s.close(() => resolve(port))
    })
    s.on('error', reject)
  })
}

export interface EngineProcess {
  url: string
  port: number
  child: ChildProcess
  output(): string
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>
}

/**
 * `stdout`: a file descriptor to give the engine as its stdout instead of a pipe (output() then has stderr
 * only). `prefix`: a command that runs the engine and becomes it (exec), e.g. `['prlimit', '--nofile=200']`.
 */
export async function spawnEngine(project: string, env: Record<string, string> = {}, port?: number, opts: { stdout?: number; prefix?: string[] } = {}): Promise<EngineProcess> {
  // Without a port asked for, the engine picks one (PORT=0) and says which on stdout: a port found free here
  // and bound later by the engine could be taken meanwhile by another test file's server or connection.
  // A stdout given as a file descriptor cannot be read here: a free port then, as before.
  const ownPort = port === undefined && opts.stdout === undefined
  const asked = port ?? (ownPort ? 0 : await freePort())
  const command = [...(opts.prefix ?? []), process.execPath, '--import', 'tsx', path.join(REPO, 'core/cli/main.ts'), 'start', '-C', project]
  const child = spawn(command[0], command.slice(1), {
    cwd: REPO,
    env: { ...process.env, PORT: String(asked), HOST: '127.0.0.1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', opts.stdout ?? 'pipe', 'pipe'],
  })
  let out = ''
  // stdout until the engine says where it listens (its whole lines only).
  let stdoutSoFar = ''
  let listening: URL | undefined
  child.stdout?.on('data', (d) => {
    out += d
    if (!ownPort || listening) return
    stdoutSoFar += d
    const line = stdoutSoFar
      .slice(0, stdoutSoFar.lastIndexOf('\n') + 1)
      .split('\n')
      .find((l) => l.includes('"wxengine listening"'))
    if (line) listening = new URL((JSON.parse(line) as { url: string }).url)
  })
  child.stderr!.on('data', (d) => (out += d))
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)))
  const deadline = Date.now() + 30_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`engine exited at start:\n${out}`)
    const p = ownPort ? Number(listening?.port ?? 0) : asked
    if (p !== 0) {
      try {
        const r = await fetch(`http://127.0.0.1:${p}/healthz`)
        if (r.status === 200) return { url: `http://127.0.0.1:${p}`, port: p, child, output: () => out, exited }
      } catch {}
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`engine did not start:\n${out}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
}
