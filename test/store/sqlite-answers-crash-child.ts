/**
 * Child process for the reply-cache kill -9 test in sqlite-store.test.ts: answers messages across several
 * journal rotations (a tiny rotation size), some with a short window that will have ended when the parent
 * looks, then kills itself.
 */
import { dirname } from 'node:path'
import { lockDataDir } from '../../core/store/data-dir-lock.ts'
import { openSqliteStore } from '../../core/store/sqlite-store.ts'

const file = process.argv[2]
const at = Number(process.argv[3])
if (process.argv[4] === 'reopen') {
  // An engine (it holds the data directory's lock) that recovers the answers and dies too before any clean close.
  lockDataDir(dirname(file))
  const again = openSqliteStore({ file, now: () => at })
  await again.log.committed()
  await new Promise((r) => setTimeout(r, 50))
  process.kill(process.pid, 'SIGKILL')
}
if (process.argv[4] === 'open-and-die') {
  // An engine that dies right after opening the store, before a single event-loop turn (a crash at start-up).
  lockDataDir(dirname(file))
  openSqliteStore({ file, now: () => at })
  process.kill(process.pid, 'SIGKILL')
}
const store = openSqliteStore({ file, now: () => at, replyJournalRotateBytes: 600 })
const reply = (k: string) => ({ status: 200, contentType: 'application/xml; charset=utf-8', body: `<xml><Content><![CDATA[${k}]]></Content></xml>` })

for (let i = 0; i < 30; i++) {
  const key = `acct:o:${i}`
  await store.dedup.claim(key, 5000)
  // Every third answer kept only 1 s: gone when the parent reopens the store 10 s later (its clock).
  await store.dedup.complete(key, reply(key), i % 3 === 0 ? 1000 : 60_000)
  await store.log.committed()
}
process.kill(process.pid, 'SIGKILL')
