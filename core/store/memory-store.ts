/**
 * The Store port kept in plain maps: for tests and single-process development.
 * Nothing survives a restart. Node runs this on one thread and no method awaits between its read and its
 * write, so dedup claims and token locks are atomic by construction.
 * Expiry is judged against the injected clock (`now`), so tests jump time instead of sleeping.
 */
import type { JsonValue } from '../plugin/plugin-api.ts'
import { NotANumberError, SumOutOfRangeError } from './store.ts'
import type {
  ClaimResult,
  HitCount,
  MessageLogEntry,
  MessageLogQuery,
  OutboxEntry,
  SessionRecord,
  Store,
  StoredReply,
  TokenRecord,
} from './store.ts'
import {
  applyOutboxPatch,
  compareHits,
  countFollowers,
  DEFAULT_LOG_LIMIT,
  type FollowerDay,
  type FollowerState,
  foldFollowers,
  hitKeyOf,
  hitKeywordOf,
  nextFollowerState,
  sessionKeyOf,
  soonestFirst,
} from './store-shared.ts'

export interface MemoryStoreOptions {
  now?: () => number
}

type DedupEntry = { state: 'pending'; expiresAt: number } | { state: 'done'; reply: StoredReply; expiresAt: number }
interface KvEntry {
  value: JsonValue
  expiresAt: number | null
}
interface LockEntry {
  owner: object
  expiresAt: number
}

/** Expired entries are dropped lazily on access; this bounds what never gets read again. */
const SWEEP_EVERY_WRITES = 1000

export function createMemoryStore(opts: MemoryStoreOptions = {}): Store {
  const now = opts.now ?? Date.now
  const sessions = new Map<string, SessionRecord>()
  const dedup = new Map<string, DedupEntry>()
  const kv = new Map<string, Map<string, KvEntry>>()
  const tokens = new Map<string, TokenRecord>()
  const locks = new Map<string, LockEntry>()
  const log: MessageLogEntry[] = []
  const hitCounts = new Map<string, HitCount>()
  /** The followers table (sqlite-schema.ts), per sessionKeyOf(account, openId). */
  const followers = new Map<string, FollowerState>()
  /** follower_days: the users who left, folded into counts per JSON [account, scene, day] (store-shared.ts). */
  const followerDays = new Map<string, FollowerDay>()
  /** follow_events: the message keys of the follows and unfollows applied, with their entries' times. */
  const followEvents = new Map<string, number>()
  const outbox = new Map<number, OutboxEntry>()
  let nextOutboxId = 1
  let writes = 0
  let closed = false

  function sweepSometimes(): void {
    if (++writes % SWEEP_EVERY_WRITES !== 0) return
    const t = now()
    for (const [k, s] of sessions) if (s.expiresAt <= t) sessions.delete(k)
    for (const [k, d] of dedup) if (d.expiresAt <= t) dedup.delete(k)
    for (const ns of kv.values()) for (const [k, e] of ns) if (e.expiresAt !== null && e.expiresAt <= t) ns.delete(k)
  }

  function liveDedup(key: string): DedupEntry | undefined {
    const d = dedup.get(key)
    if (d && d.expiresAt <= now()) {
      dedup.delete(key)
      return undefined
    }
    return d
  }

  /** A namespace's map, made on its first write. */
  function namespaceOf(namespace: string): Map<string, KvEntry> {
    let ns = kv.get(namespace)
    if (!ns) kv.set(namespace, (ns = new Map()))
    return ns
  }

  function liveKv(namespace: string, key: string): KvEntry | undefined {
    const e = kv.get(namespace)?.get(key)
    if (e && e.expiresAt !== null && e.expiresAt <= now()) {
      kv.get(namespace)?.delete(key)
      return undefined
    }
    return e
  }

  function claimStateOf(d: DedupEntry): ClaimResult {
    return d.state === 'done' ? { state: 'done', reply: { ...d.reply } } : { state: 'pending' }
  }

  function getSession(account: string, openId: string): SessionRecord | null {
    const key = sessionKeyOf(account, openId)
    const s = sessions.get(key)
    if (!s) return null
    if (s.expiresAt <= now()) {
      sessions.delete(key)
      return null
    }
    return structuredClone(s)
  }

  function claimDedup(key: string, pendingTtlMs: number): ClaimResult {
    const d = liveDedup(key)
    if (d) return claimStateOf(d)
    dedup.set(key, { state: 'pending', expiresAt: now() + pendingTtlMs })
    sweepSometimes()
    return { state: 'claimed' }
  }

  function completeDedup(key: string, reply: StoredReply, ttlMs: number): void {
    dedup.set(key, { state: 'done', reply: { ...reply }, expiresAt: now() + ttlMs })
  }

  return {
    kind: 'memory',

    sessions: {
      async get(account, openId) {
        return getSession(account, openId)
      },
      getSync: getSession,
      async put(session) {
        sessions.set(sessionKeyOf(session.account, session.openId), structuredClone(session))
        sweepSometimes()
      },
      async delete(account, openId) {
        sessions.delete(sessionKeyOf(account, openId))
      },
      async list({ account, plugin, limit }) {
        const t = now()
        const live = [...sessions.values()].filter((s) => s.expiresAt > t && (account === undefined || s.account === account) && (plugin === undefined || s.plugin === plugin))
        return soonestFirst(live).slice(0, limit).map((s) => structuredClone(s))
      },
    },

    dedup: {
      async claim(key, pendingTtlMs) {
        return claimDedup(key, pendingTtlMs)
      },
      async complete(key, reply, ttlMs) {
        completeDedup(key, reply, ttlMs)
      },
      claimSync: claimDedup,
      completeSync: completeDedup,
      async release(key) {
        // Only a pending claim is given up: a late release must not erase a reply already recorded for replay.
        if (liveDedup(key)?.state === 'pending') dedup.delete(key)
      },
      async peek(key) {
        const d = liveDedup(key)
        return d ? claimStateOf(d) : { state: 'absent' }
      },
    },

    kv: {
      async get(namespace, key) {
        const e = liveKv(namespace, key)
        return e === undefined ? undefined : structuredClone(e.value)
      },
      async set(namespace, key, value, ttlMs) {
        namespaceOf(namespace).set(key, { value: structuredClone(value), expiresAt: ttlMs === undefined ? null : now() + ttlMs })
        sweepSometimes()
      },
      async delete(namespace, key) {
        kv.get(namespace)?.delete(key)
      },
      async increment(namespace, key, by, ttlMsIfNew) {
        const e = liveKv(namespace, key)
        if (e !== undefined && typeof e.value !== 'number') throw new NotANumberError(JSON.stringify(e.value))
        const current = e === undefined ? 0 : (e.value as number)
        const sum = current + by
        if (!Number.isFinite(sum)) throw new SumOutOfRangeError(current, by)
        namespaceOf(namespace).set(key, { value: sum, expiresAt: e ? e.expiresAt : ttlMsIfNew !== undefined ? now() + ttlMsIfNew : null })
        sweepSometimes()
        return sum
      },
      async compareAndSet(namespace, key, expected, next, ttlMs) {
        const e = liveKv(namespace, key)
        if ((e === undefined ? undefined : JSON.stringify(e.value)) !== (expected === undefined ? undefined : JSON.stringify(expected))) return false
        if (next === undefined) {
          kv.get(namespace)?.delete(key)
          return true
        }
        namespaceOf(namespace).set(key, { value: structuredClone(next), expiresAt: ttlMs !== undefined ? now() + ttlMs : (e?.expiresAt ?? null) })
        sweepSometimes()
        return true
      },
      async keys(namespace, prefix, limit) {
        const t = now()
        const live = [...(kv.get(namespace) ?? [])].filter(([k, e]) => k.startsWith(prefix) && (e.expiresAt === null || e.expiresAt > t)).map(([k]) => k)
        return live.sort().slice(0, limit)
      },
      async deletePrefix(namespace, prefix) {
        const ns = kv.get(namespace)
        if (!ns) return 0
        const t = now()
        let deleted = 0
        for (const [k, e] of ns) {
          if (!k.startsWith(prefix)) continue
          if (e.expiresAt === null || e.expiresAt > t) deleted++
          ns.delete(k)
        }
        return deleted
      },
    },

    tokens: {
      async get(appId) {
        const r = tokens.get(appId)
        if (!r || r.expiresAt <= now()) return null
        return { ...r }
      },
      async set(appId, record) {
        tokens.set(appId, { ...record })
      },
      async invalidate(appId, token) {
        // A token refreshed by another caller in the meantime is left alone.
        if (tokens.get(appId)?.token === token) tokens.delete(appId)
      },
      async lock(appId, ttlMs) {
        const held = locks.get(appId)
        if (held && held.expiresAt > now()) return null
        const owner = {}
        locks.set(appId, { owner, expiresAt: now() + ttlMs })
        const mine = () => {
          const l = locks.get(appId)
          return l !== undefined && l.owner === owner && l.expiresAt > now()
        }
        return {
          async set(record) {
            if (!mine()) return false
            tokens.set(appId, { ...record })
            return true
          },
          async release() {
            // After expiry someone else may hold the lock; releasing must not free theirs.
            if (locks.get(appId)?.owner === owner) locks.delete(appId)
          },
        }
      },
    },

    log: {
      append(entry) {
        log.push({ ...entry })
        if ((entry.kind === 'subscribe' || entry.kind === 'unsubscribe') && !followEvents.has(entry.msgKey)) {
          followEvents.set(entry.msgKey, entry.at)
          const k = sessionKeyOf(entry.account, entry.openId)
          const next = nextFollowerState(followers.get(k), entry)
          if (next) followers.set(k, next)
        }
        if (entry.rule === undefined) return
        const keyword = hitKeywordOf(entry.keyword)
        const k = hitKeyOf(entry.account, entry.rule, keyword)
        const h = hitCounts.get(k)
        if (h) h.hits++
        else hitCounts.set(k, { account: entry.account, rule: entry.rule, keyword, hits: 1 })
      },
      async query(q: MessageLogQuery) {
        const out: MessageLogEntry[] = []
        for (let i = log.length - 1; i >= 0; i--) {
          const e = log[i]
          if (q.account !== undefined && e.account !== q.account) continue
          if (q.openId !== undefined && e.openId !== q.openId) continue
          if (q.kind !== undefined && e.kind !== q.kind) continue
          if (q.since !== undefined && e.at < q.since) continue
          if (q.until !== undefined && e.at >= q.until) continue
          out.push({ ...e })
        }
        // Newest first; the sort is stable, so equal `at` keep newest-appended first, as in the SQLite store.
        return out.sort((a, b) => b.at - a.at).slice(0, q.limit ?? DEFAULT_LOG_LIMIT)
      },
      async hits(account) {
        const out: HitCount[] = []
        for (const h of hitCounts.values()) if (account === undefined || h.account === account) out.push({ ...h })
        return out.sort(compareHits)
      },
      async followers(q = {}) {
        return countFollowers(followers.values(), followerDays.values(), q)
      },
      async prune(before) {
        const kept = log.filter((e) => e.at >= before)
        const removed = log.length - kept.length
        log.splice(0, log.length, ...kept)
        for (const [k, at] of followEvents) if (at < before) followEvents.delete(k)
        foldFollowers(followers, followerDays, before)
        return removed
      },
      async foldFollowers(before) {
        return foldFollowers(followers, followerDays, before)
      },
      async flush() {},
      async committed() {},
      health() {
        return { writable: true, backlog: 0, dropped: 0 }
      },
    },

    outbox: {
      async record(entry) {
        const id = nextOutboxId++
        outbox.set(id, { ...structuredClone(entry), id })
        return id
      },
      async update(id, patch) {
        const e = outbox.get(id)
        if (!e) return
        outbox.set(id, applyOutboxPatch(e, structuredClone(patch)))
      },
      async list(status) {
        const out: OutboxEntry[] = []
        for (const e of outbox.values()) if (status === undefined || e.status === status) out.push(structuredClone(e))
        return out.sort((a, b) => (a.id ?? 0) - (b.id ?? 0))
      },
      async prune(before) {
        let removed = 0
        for (const [id, e] of outbox) {
          if (e.status !== 'pending' && e.at < before) {
            outbox.delete(id)
            removed++
          }
        }
        return removed
      },
    },

    async healthy() {
      return !closed
    },
    async close() {
      closed = true
    },
  }
}
