/**
 * Requests/s of a text message -> text reply, side by side in one run:
 *   bare Koa answering a fixed XML (the ceiling), wxengine, and co-wechat (the peer), in plaintext and safe mode.
 * Each server runs in its own process; autocannon drives it from this one. Targets (issue #2):
 *   wxengine plaintext >= 0.8x bare Koa, safe >= 0.7x, both >= 2x co-wechat.
 *
 *   npx tsx bench/http-throughput.bench.ts [--seconds 10] [--connections 32] [--log-off]
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { buildPool, hasWrk, runLoad, runWrk, startServer, type LoadResult, type PooledRequest } from './support/load.ts'

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '10' }, connections: { type: 'string', default: '32' }, 'log-off': { type: 'boolean', default: false } } })
const seconds = Number(values.seconds)
const connections = Number(values.connections)
const root = path.resolve(import.meta.dirname, '..')
const KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const plainAccount = { token: 'plaintoken', appId: 'wxplain000000001', mode: 'plaintext' as const }
const safeAccount = { token: 'safetoken', appId: 'wxsafe0000000001', mode: 'safe' as const, encodingAESKey: KEY }

function makeProject(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'wxengine-bench-'))
  mkdirSync(path.join(dir, 'rules'))
  mkdirSync(path.join(dir, 'plugins'))
  writeFileSync(path.join(dir, 'rules', 'bench.yaml'), 'rules:\n  - name: hello\n    keywords: [{ exact: hello }]\n    reply: { type: text, content: Hello }\n')
  writeFileSync(
    path.join(dir, 'engine.config.ts'),
    `export default ${JSON.stringify({
      defaultAccount: 'plain',
      accounts: [{ id: 'plain', ...plainAccount }, { id: 'safe', ...safeAccount }],
      log: { level: 'info', retentionDays: values['log-off'] ? 0 : 30 },
    })}\n`,
  )
  return dir
}

async function measure(name: string, start: () => ReturnType<typeof startServer>, pool: PooledRequest[]): Promise<LoadResult> {
  const server = await start()
  try {
    await runLoad(server.port, pool.slice(0, 3000), 0, connections, 3000) // warm-up: JIT, caches, SQLite pages
    const r = useWrk ? runWrk(server.port, pool.slice(3000), seconds, connections) : await runLoad(server.port, pool.slice(3000), seconds, connections)
    console.log(`${name.padEnd(28)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50} ms  p99 ${r.p99} ms  errors ${r.errors}  non-2xx ${r.non2xx}`)
    return r
  } finally {
    await server.stop()
  }
}

const useWrk = hasWrk()
const poolSize = Math.max(60_000, seconds * (useWrk ? 40_000 : 15_000))
console.log(`building ${poolSize} distinct signed pushes per target (safe ones AES-encrypted)...`)
const project = makeProject()
const results: Record<string, LoadResult> = {}
const pools = {
  barePlain: buildPool(plainAccount, '/wechat', poolSize),
  bareSafe: buildPool(safeAccount, '/wechat', poolSize),
}
console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model}, ${seconds} s, ${connections} connections, load from ${useWrk ? 'wrk (1 thread)' : 'autocannon'}\n`)
const engine = (dataDir: string) => () =>
  startServer(path.join(root, 'core/cli/main.ts'), ['start', '-C', project], { DATA_DIR: dataDir, LOG_LEVEL: 'info' }, '/healthz')

results.koaPlain = await measure('bare Koa (plaintext body)', () => startServer(path.join(root, 'bench/servers/bare-koa.ts'), [], {}), pools.barePlain)
results.wxPlain = await measure('wxengine plaintext', engine(path.join(project, 'data-plain')), buildPool(plainAccount, '/wechat/plain', poolSize))
results.coPlain = await measure('co-wechat plaintext', () => startServer(path.join(root, 'bench/servers/co-wechat.ts'), [], { MODE: 'plaintext' }), buildPool(plainAccount, '/wechat', poolSize))
results.koaSafe = await measure('bare Koa (safe body)', () => startServer(path.join(root, 'bench/servers/bare-koa.ts'), [], {}), pools.bareSafe)
results.wxSafe = await measure('wxengine safe', engine(path.join(project, 'data-safe')), buildPool(safeAccount, '/wechat/safe', poolSize))
results.coSafe = await measure('co-wechat safe', () => startServer(path.join(root, 'bench/servers/co-wechat.ts'), [], { MODE: 'safe' }), buildPool(safeAccount, '/wechat', poolSize))

const ratio = (a: LoadResult, b: LoadResult) => (a.rps / b.rps).toFixed(2)
console.log(`
| ratio | measured | target |
|---|---|---|
| wxengine plaintext / bare Koa | ${ratio(results.wxPlain, results.koaPlain)} | >= 0.80 |
| wxengine safe / bare Koa | ${ratio(results.wxSafe, results.koaSafe)} | >= 0.70 |
| wxengine plaintext / co-wechat plaintext | ${ratio(results.wxPlain, results.coPlain)} | >= 2.00 |
| wxengine safe / co-wechat safe | ${ratio(results.wxSafe, results.coSafe)} | >= 2.00 |
| co-wechat plaintext / bare Koa | ${ratio(results.coPlain, results.koaPlain)} | (about 0.35 reported) |
| co-wechat safe / bare Koa | ${ratio(results.coSafe, results.koaSafe)} | (about 0.2 reported) |`)
rmSync(project, { recursive: true, force: true })
