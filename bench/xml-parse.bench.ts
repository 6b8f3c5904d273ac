/**
 * parseXml (core/normalize/safe-xml.ts) against xml-js's xml2js on the same bodies, in one run.
 * Run: npx tsx bench/xml-parse.bench.ts   (2-core machine: run it alone)
 * Each case alternates the two parsers over several rounds and reports the median µs per parse.
 */
import { createRequire } from 'node:module'
import { readFileSync } from 'node:fs'
import { parseXml } from '../core/normalize/safe-xml.ts'
import { normalizeMessage } from '../core/normalize/normalize-message.ts'
import { median } from './support/median.ts'

const require = createRequire(import.meta.url)
const { xml2js } = require('xml-js') as { xml2js: (xml: string, options: object) => unknown }

const fixture = (name: string) => readFileSync(new URL(`../test/fixtures/messages/${name}`, import.meta.url), 'utf8')

const CASES: [string, string][] = [
  [
    'text (one line, as sent)',
    '<xml><ToUserName><![CDATA[gh_3f8c2a1b9d0e]]></ToUserName><FromUserName><![CDATA[oX7aB5cD3eF1gH9iJ_kLmNoPqRsT]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[this is a test]]></Content><MsgId>1234567890123456</MsgId></xml>',
  ],
  [
    'safe-mode envelope',
    `<xml><ToUserName><![CDATA[gh_3f8c2a1b9d0e]]></ToUserName><Encrypt><![CDATA[${'A'.repeat(512)}]]></Encrypt></xml>`,
  ],
  ['click event (indented)', fixture('event-click.xml')],
  ['masssend, nested lists', fixture('event-masssendjobfinish.xml')],
]

const ROUNDS = 7
const ITERATIONS = 20_000
let sink = 0

function timeIt(fn: (body: string) => unknown, body: string): number {
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < ITERATIONS; i++) if (fn(body)) sink++
  return Number(process.hrtime.bigint() - t0) / ITERATIONS / 1000
}

const ours = (body: string) => parseXml(body)
const theirs = (body: string) => xml2js(body, { compact: true })
const oursAndNormalize = (body: string) => {
  const r = parseXml(body)
  return r.ok ? normalizeMessage(r.value) : r
}

console.log(`node ${process.version}, ${ITERATIONS} parses x ${ROUNDS} rounds per cell, median µs/parse`)
console.log('case'.padEnd(28), 'bytes'.padStart(6), 'xml2js'.padStart(9), 'parseXml'.padStart(9), 'speedup'.padStart(8), '+normalize'.padStart(11))
for (const [name, body] of CASES) {
  for (let i = 0; i < 5_000; i++) (ours(body), theirs(body), oursAndNormalize(body)) // warm-up
  const a: number[] = []
  const b: number[] = []
  const c: number[] = []
  for (let r = 0; r < ROUNDS; r++) {
    a.push(timeIt(theirs, body))
    b.push(timeIt(ours, body))
    c.push(timeIt(oursAndNormalize, body))
  }
  const [xa, xb, xc] = [median(a), median(b), median(c)]
  console.log(
    name.padEnd(28),
    String(Buffer.byteLength(body)).padStart(6),
    xa.toFixed(2).padStart(9),
    xb.toFixed(2).padStart(9),
    `${(xa / xb).toFixed(1)}x`.padStart(8),
    xc.toFixed(2).padStart(11),
  )
}
if (sink === 0) console.log('unreachable')
