import { createMemoryStore } from '../../core/store/memory-store.ts'
import { runStoreContract } from './store-contract.ts'

runStoreContract('memory', async ({ now }) => createMemoryStore({ now }))
// Exercises the suite's real-time mode (used by Redis) without needing a server.
runStoreContract('memory (real time)', async () => createMemoryStore(), { realTime: true })
