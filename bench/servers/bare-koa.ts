/** Baseline: a bare Koa app that reads the body and answers a fixed reply XML. */
import Koa from 'koa'
import getRawBody from 'raw-body'
import { FIXED_REPLY_XML } from './fixed-reply.ts'

const app = new Koa()
app.use(async (ctx) => {
  await getRawBody(ctx.req, { limit: 1024 * 1024, encoding: 'utf8' })
  ctx.type = 'application/xml'
  ctx.body = FIXED_REPLY_XML
})
const server = app.listen(Number(process.env.PORT), '127.0.0.1', () => process.send?.('ready'))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
