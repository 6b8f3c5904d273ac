/**
 * A reply is small: WeChat shows a couple of thousand characters of text, and 8 articles. This bound is far
 * above that and only stops a runaway value (20 M characters sent to WeChat in the audit that found it),
 * which would otherwise be serialized, sealed and cached on the main thread. Each string of a reply is
 * checked against it (reply-builders.ts), and the plugin sandbox checks the whole reply before sending it
 * over. Its own file: the sandbox's worker program imports it without the schema library.
 */
export const MAX_REPLY_CHARS = 65_536
