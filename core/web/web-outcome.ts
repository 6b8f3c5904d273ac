/**
 * How a request to a web endpoint ended, as /metrics counts it (wxengine_web_requests_total): `ok`,
 * `user_refused` (a userinfo login the user said no to), or the error code it was refused with. The account
 * is one configured (an unknown id in a path is '' rather than a label anyone can mint).
 */
export type WebEndpointName = 'jssdk-config' | 'oauth' | 'oauth-callback' | 'oauth-identity'

export type CountWebRequest = (endpoint: WebEndpointName, account: string, outcome: string) => void
