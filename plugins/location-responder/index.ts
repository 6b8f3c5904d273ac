/**
 * Answers a location message (the user shared a place in the chat) with where it is.
 *
 * The automatic location report (`location_report`, sent when the user allows the account to see
 * their position) is not something the user wrote: it gets no reply, so the plugin passes and the
 * engine answers `success`.
 */
import { definePlugin } from 'wxengine/plugin'

export default definePlugin({
  name: 'location-responder',
  handle(ctx) {
    const m = ctx.message
    if (m.kind !== 'location') return ctx.pass()
    // Location_X is the latitude and Location_Y the longitude (protocol.md §3).
    const place = m.label === '' ? 'That place' : m.label
    return ctx.reply.text(`${place} is at latitude ${m.locationX}, longitude ${m.locationY}.`)
  },
})
