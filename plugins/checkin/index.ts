/**
 * A daily check-in (签到) that awards points: 10 a day, and 20 on every 7th day in a row.
 *
 * The check-in's own record (the last day, the streak) is in the plugin's storage, `ctx.storage.user`; the
 * points are in the storage area `points`, shared with the points plugin, which shows and spends them
 * (plugins/_shared/points.ts says how the two share).
 */
import { definePlugin } from 'wxengine/plugin'
import { addPoints, POINTS_AREA } from '../_shared/points.ts'

type LastCheckin = { day: number; streak: number }

const DAILY_POINTS = 10
const WEEK_BONUS = 10

/**
 * The user's day, as a number of days since 1970, in China Standard Time (UTC+8), where an Official
 * Account's users mostly are: a check-in at 07:00 in Beijing is that day's, not the day before's (UTC).
 */
function dayOf(createTime: number): number {
  return Math.floor((createTime + 8 * 3600) / 86400)
}

export default definePlugin({
  name: 'checkin',
  sharedStorage: [POINTS_AREA],

  async handle(ctx) {
    // Typed, or the menu button whose key is the rule's keyword (menus/default.yaml).
    if (ctx.message.kind !== 'text' && !ctx.match.fromClick) return ctx.pass()
    const today = dayOf(ctx.message.createTime)
    const last = await ctx.storage.user.get<LastCheckin>('last')
    if (last?.day === today) return `You have checked in today already (day ${last.streak} in a row). Come back tomorrow!`

    const streak = last?.day === today - 1 ? last.streak + 1 : 1
    const earned = DAILY_POINTS + (streak % 7 === 0 ? WEEK_BONUS : 0)
    // The day first: should the award then fail (the store away), a second try today is refused rather
    // than paid twice.
    await ctx.storage.user.set<LastCheckin>('last', { day: today, streak })
    const balance = await addPoints(ctx.storage.shared(POINTS_AREA), earned)
    return `Checked in: +${earned} points (day ${streak} in a row). You have ${balance}. Send "points" to spend them.`
  },
})
