/**
 * Child process for sqlite-store.test.ts: an engine holding a data directory's lock, as seen from another
 * process. It says "held" once it holds it and keeps it until its parent disconnects.
 */
import { lockDataDir } from '../../core/store/data-dir-lock.ts'

const lock = lockDataDir(process.argv[2]!)
process.send!('held')
process.on('disconnect', () => {
  lock.release()
  process.exit(0)
})
