/**
 * Shows the points the checkin plugin awards, and trades them for a coupon: "points" (积分) says the
 * balance, "redeem" (兑换) spends COUPON_COST of them.
 *
 * The balance is in the storage area `points`, which this plugin declares too (plugins/_shared/points.ts
 * says how the two share). The coupons a user got are this plugin's own business: its own storage.
 */
import { definePlugin } from 'wxengine/plugin'
import { balanceOf, POINTS_AREA, spendPoints } from '../_shared/points.ts'

const COUPON_COST = 30
const REDEEM_WORDS = new Set(['redeem', '兑换'])

export default definePlugin({
  name: 'points',
  sharedStorage: [POINTS_AREA],

  async handle(ctx) {
    // Typed, or a menu button whose key is one of the rule's keywords.
    const said = ctx.message.kind === 'text' ? ctx.message.content : ctx.match.fromClick ? ctx.match.keyword : undefined
    if (said === undefined) return ctx.pass()
    const points = ctx.storage.shared(POINTS_AREA)

    if (!REDEEM_WORDS.has(said.trim().toLowerCase())) {
      const balance = await balanceOf(points)
      return `You have ${balance} points. ${balance >= COUPON_COST ? `Send "redeem" to trade ${COUPON_COST} of them for a coupon.` : `A coupon takes ${COUPON_COST}: send "checkin" every day to earn more.`}`
    }

    const left = await spendPoints(points, COUPON_COST)
    if (left === undefined) return `A coupon takes ${COUPON_COST} points, and you have ${await balanceOf(points)}. Send "checkin" every day to earn more.`
    const coupon = `C${(await ctx.storage.increment('coupons')).toString().padStart(6, '0')}`
    await ctx.storage.user.update<string[]>('coupons', (list = []) => [...list, coupon])
    return `Your coupon: ${coupon}. ${left} points left.`
  },
})
