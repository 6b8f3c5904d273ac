/** Peer: co-wechat (node-webot) on Koa doing the same job: verify, (decrypt,) parse, reply text. */
import Koa from 'koa'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const wechat = require('co-wechat') as (config: object) => { middleware(fn: (message: { Content?: string }) => Promise<unknown>): Koa.Middleware }
const mode = process.env.MODE ?? 'plaintext'
const config = mode === 'safe'
  ? { token: 'safetoken', appid: 'wxsafe0000000001', encodingAESKey: 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG' }
  : { token: 'plaintoken', appid: 'wxplain000000001' }
const app = new Koa()
app.use(wechat(config).middleware(async (message) => (message.Content === 'hello' ? 'Hello' : 'default')))
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
