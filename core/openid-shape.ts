/**
 * The letters of an OpenID: 28 of them for an Official Account's users (`oAbC...`), base64url. What is sent
 * to the platform as one is checked against this first: a CSV export's names, a UTF-16 file's NULs, a
 * plugin's 5,000,000-character string or `<y>` went to the platform as OpenIDs, refused there with a bare
 * 40003 naming no call, or not at all. Longer than 28 is allowed, for other kinds of accounts.
 */
export const OPENID_SHAPE = /^[A-Za-z0-9_-]{1,64}$/
