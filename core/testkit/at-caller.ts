/**
 * A failed expectation of the test kit (`expectReply`, `expectNoReply`, `waitForSent`) that points at the
 * test's line, not at the kit's.
 *
 * Why: the kit asserts after awaiting the engine, so the AssertionError's stack starts in
 * core/testkit/plugin-test-client.ts, and node's test reporters print that frame first: under `wxengine
 * test` a plugin author saw the engine's file and line (which they cannot change) above, or instead of,
 * their own. The caller's position is taken at the call, while the test's frame is still on the stack
 * (after the first await it is only there as an `async` frame, if at all), and becomes the failure's stack.
 */
import assert from 'node:assert/strict'

/**
 * Runs `body` (the kit method's work) and, if it fails with an AssertionError, gives the error the stack of
 * the call to `method` (the kit's public function, whose frame and the kit's own below it are cut). Other
 * errors (a refused argument, a stand-in that is gone) are left as they are: their own stack says more.
 */
export async function atCaller<T>(method: (...args: never[]) => unknown, body: () => Promise<T>): Promise<T> {
  const site: { stack?: string } = {}
  Error.captureStackTrace(site, method)
  try {
    return await body()
  } catch (e) {
    if (e instanceof assert.AssertionError && site.stack !== undefined) {
      // The header of a stack is `name [code]: message` (as node prints an AssertionError); the frames are the caller's.
      const frames = site.stack.slice(site.stack.indexOf('\n'))
      e.stack = `${e.name} [${e.code}]: ${e.message}${frames}`
    }
    throw e
  }
}
