/**
 * The Lua scripts that make a read-then-write atomic on the Redis server. Each runs as one command, so no
 * other instance's command can land between its GET and its SET/DEL.
 * Sent by SHA (EVALSHA) and resent in full when the server answers NOSCRIPT (a restarted Redis has an
 * empty script cache). `fullText` sends the script itself: for a command that must work the first time
 * even if no answer comes back in time (a timed-out EVALSHA later answered NOSCRIPT would do nothing).
 */
import { createHash } from 'node:crypto'
import type { Redis } from 'ioredis'

export interface LuaScript {
  lua: string
  sha: string
}

function defineScript(lua: string): LuaScript {
  return { lua, sha: createHash('sha1').update(lua).digest('hex') }
}

/**
 * The health probe: a write through a script, as every message's claim is. A plain SET passed on a Redis
 * whose ACL refuses scripts (`-@scripting`), where every message was dropped while /healthz said ok.
 */
export const HEALTH_PROBE = defineScript(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

/** Returns nil when claimed, else the value already there (`pending:<owner>` or the reply JSON). */
export const CLAIM = defineScript(`
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return false end
return redis.call('GET', KEYS[1])
`)

/**
 * Deletes the claim only while it is still pending: each ARGV is an exact pending value this instance
 * wrote (the claims of a message and of its retries whose outcomes were lost). Never any pending claim: that
 * may be another instance's, live. A recorded reply (from this or another instance) is kept.
 */
export const RELEASE = defineScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
for i = 1, #ARGV do
  if v == ARGV[i] then
    return redis.call('DEL', KEYS[1])
  end
end
return 0
`)

/**
 * Records a reply unless another instance has claimed or answered the key in the meantime: used after a
 * reconnect to settle a `complete` whose outcome was unknown. ARGV: reply, ttl, then every pending value
 * this instance may have left on the key (the claim that produced the reply, and any later claim of a
 * retry whose outcome was lost too).
 */
export const COMPLETE_IF_OWN = defineScript(`
local v = redis.call('GET', KEYS[1])
if v then
  local own = false
  for i = 3, #ARGV do
    if v == ARGV[i] then own = true end
  end
  if not own then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

/** Deletes the token record only if it still holds the token the platform rejected. */
export const INVALIDATE_TOKEN = defineScript(`
local v = redis.call('GET', KEYS[1])
if not v then return 0 end
local ok, rec = pcall(cjson.decode, v)
if ok and type(rec) == 'table' and rec.token == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

/**
 * Takes a user's lock (KEYS[1], owner ARGV[1], PX ARGV[2]) and, when taken, reads their session (KEYS[2]) in
 * the same command: {1, session JSON or nil}; while another holds the lock, {0, its owner value} (which says
 * whether that holder is the user's unsubscribe: redis-sessions.ts). A third element names what was repaired
 * (LockRepair: redis-sessions.ts says it).
 * Keys no instance writes so (edited by hand) are repaired here, not thrown on: a lock or a session of
 * another type made every message of the user fail (a GET's WRONGTYPE after the lock was SET left the lock
 * taken, and Redis does not undo it), and a lock with no expiry held the user for ever. redis.pcall only
 * when the plain read failed, so the common path is the two commands it was.
 */
/** What LOCK_USER_AND_READ repaired: a lock with no expiry, a lock or a session of another type than a string. */
export type LockRepair = 'lock-expiry' | 'lock-type' | 'session-type'

export const LOCK_USER_AND_READ = defineScript(`
local repaired = false
if not redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2], 'NX') then
  local owner = redis.pcall('GET', KEYS[1])
  if type(owner) ~= 'table' then
    if redis.call('PTTL', KEYS[1]) ~= -1 then return {0, owner} end
    redis.call('PEXPIRE', KEYS[1], ARGV[2])
    return {0, owner, 'lock-expiry'}
  end
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  repaired = 'lock-type'
end
local session = redis.pcall('GET', KEYS[2])
if type(session) == 'table' then
  redis.call('DEL', KEYS[2])
  return {1, false, 'session-type'}
end
return {1, session, repaired}
`)

/** Compare-and-delete: a holder whose lock lapsed must not free the next holder's lock. */
export const UNLOCK = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

/** Sets the lock (KEYS[1]) to lapse ARGV[2] ms from now if it is still held by ARGV[1]; 1 when it was. */
export const EXTEND_LOCK = defineScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`)

/**
 * EXTEND_LOCK for a dedup claim (ARGV[1], `pending:<owner>`), and 2 when the key holds an answer instead: the
 * renewal met the claim's own answer, recorded by a settlement sent just before it (a reconnect sends both at
 * once), and is simply done, not a claim lost.
 */
export const EXTEND_CLAIM = defineScript(`
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
if v and string.sub(v, 1, 8) ~= 'pending:' then return 2 end
return 0
`)

/**
 * A write fenced by a lock: sets KEYS[2] to ARGV[2] for ARGV[3] ms (deletes it when ARGV[3] is '') only if the
 * lock KEYS[1] still holds ARGV[1], this writer's owner value; 1 when written, 0 when the lock is not ours
 * any more (lapsed while its holder was paused, maybe taken by another instance whose newer write it would
 * overwrite). Checked in the same script as the write: nothing can take the lock between them.
 */
export const WRITE_IF_LOCKED = defineScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then
  redis.call('DEL', KEYS[2])
else
  redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
end
return 1
`)

/**
 * UNLINKs KEYS[2..] only if the lock KEYS[1] still holds ARGV[1] (a purge under a user's lock): the number
 * removed, or -1 when the lock is not ours any more (nothing removed: the next holder may have written them).
 */
export const UNLINK_IF_LOCKED = defineScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return -1 end
if #KEYS < 2 then return 0 end
return redis.call('UNLINK', unpack(KEYS, 2))
`)

/**
 * kv's compare-and-set. ARGV: '1' when a value is expected (else the key must be absent), the expected JSON,
 * '1' when a value is to be written (else the key is deleted), its JSON, its expiry in ms ('' keeps the
 * key's own: KEEPTTL, none for a new key). Returns 1 when written, 0 when the value was not the expected one.
 */
export const KV_COMPARE_AND_SET = defineScript(`
local v = redis.call('GET', KEYS[1])
if ARGV[1] == '1' then
  -- A number KV_INCREMENT wrote may differ in text from JavaScript's for the same value (0.1): compared as numbers.
  if v ~= ARGV[2] and not (v and tonumber(v) ~= nil and tonumber(v) == tonumber(ARGV[2])) then return 0 end
elseif v then
  return 0
end
if ARGV[3] ~= '1' then
  redis.call('DEL', KEYS[1])
elseif ARGV[5] == '' then
  redis.call('SET', KEYS[1], ARGV[4], 'KEEPTTL')
else
  redis.call('SET', KEYS[1], ARGV[4], 'PX', ARGV[5])
end
return 1
`)

/**
 * kv's increment. ARGV: the amount, the expiry in ms of a counter it starts ('' for none). Returns the sum
 * as text; an error reply NOT_A_NUMBER with the value when it holds something else, OUT_OF_RANGE with the
 * current number when the sum would not be finite (nothing written). An integer is written as
 * its digits (as JavaScript writes it), another number in the shortest form that reads back the same.
 */
export const KV_INCREMENT = defineScript(`
local v = redis.call('GET', KEYS[1])
local n = 0
if v then
  n = tonumber(v)
  if n == nil then return redis.error_reply('NOT_A_NUMBER ' .. string.sub(v, 1, 60)) end
end
local sum = n + tonumber(ARGV[1])
if sum == math.huge or sum == -math.huge or sum ~= sum then return redis.error_reply('OUT_OF_RANGE ' .. n) end
local text
if sum == math.floor(sum) and math.abs(sum) < 9007199254740992 then
  text = string.format('%d', sum)
else
  for digits = 15, 17 do
    text = string.format('%.' .. digits .. 'g', sum)
    if tonumber(text) == sum then break end
  end
end
if v then
  redis.call('SET', KEYS[1], text, 'KEEPTTL')
elseif ARGV[2] ~= '' then
  redis.call('SET', KEYS[1], text, 'PX', ARGV[2])
else
  redis.call('SET', KEYS[1], text)
end
return text
`)

export async function runScript(
  client: Redis,
  script: LuaScript,
  keys: string[],
  args: Array<string | number>,
  opts: { fullText?: boolean } = {},
): Promise<unknown> {
  if (opts.fullText) return client.eval(script.lua, keys.length, ...keys, ...args)
  try {
    return await client.evalsha(script.sha, keys.length, ...keys, ...args)
  } catch (err) {
    if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
    return client.eval(script.lua, keys.length, ...keys, ...args)
  }
}
