/**
 * Points, which the checkin plugin awards and the points plugin shows and spends.
 *
 * Two kinds of sharing meet here. The code: this folder's name starts with `_`, so it is not a plugin but
 * code plugins import (`../_shared/points.ts`); each plugin runs its own copy. The data: the balance lives
 * in the storage area `points`, which both plugins declare (`sharedStorage: [POINTS_AREA]`) and open with
 * `ctx.storage.shared(POINTS_AREA)`; a plugin's own `ctx.storage` is its alone.
 */
import type { ScopedStorage } from 'wxengine/plugin'

export const POINTS_AREA = 'points'

/** The user's balance, a key of the area's per-user keys (removed with the user's data on unsubscribe). */
const BALANCE = 'balance'

export async function balanceOf(points: ScopedStorage): Promise<number> {
  return (await points.user.get<number>(BALANCE)) ?? 0
}

/** Adds `n` points to the user's balance and resolves with the new balance. */
export function addPoints(points: ScopedStorage, n: number): Promise<number> {
  return points.user.increment(BALANCE, n)
}

/**
 * Takes `n` points when the user has that many: resolves with the balance left, or with undefined (and
 * nothing taken) when they have fewer. `update` compares and writes in one step, so a balance is never spent
 * twice, even by two plugins at once.
 */
export async function spendPoints(points: ScopedStorage, n: number): Promise<number | undefined> {
  let enough = false
  const left = await points.user.update<number>(BALANCE, (balance = 0) => {
    // Runs again if another write landed in between: decide on the value it is given each time.
    enough = balance >= n
    return enough ? balance - n : balance
  })
  return enough ? left : undefined
}
