/**
 * A rules file whose keyword `会员` answers a news article that opens a page through a web login
 * (docs/rules.md#articles-that-log-the-user-in), shared by the tests of that feature.
 */
export function memberRules(page = 'https://vip.example.com/center', scope: 'base' | 'userinfo' = 'userinfo', more = ''): string {
  return `rules:
  - name: member
    keywords: [会员]
    reply:
      type: news
      articles:
        - {title: 会员中心, url: '${page}', login: ${scope}}
${more}`
}
