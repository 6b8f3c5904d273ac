import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, readdirSync } from 'node:fs'
import { parseXml } from '../../core/normalize/safe-xml.ts'
import { normalizeMessage } from '../../core/normalize/normalize-message.ts'
import { MESSAGE_KINDS, type InboundMessage, type RawFields } from '../../core/normalize/message-types.ts'

const FIXTURES = new URL('../fixtures/messages/', import.meta.url)
const TO = 'gh_3f8c2a1b9d0e'
const FROM = 'oX7aB5cD3eF1gH9iJ_kLmNoPqRsT'

function readFixture(name: string): RawFields {
  const parsed = parseXml(readFileSync(new URL(name, FIXTURES), 'utf8'))
  assert.ok(parsed.ok, `${name}: ${parsed.ok ? '' : parsed.error.reason}`)
  return parsed.value
}

function normalizeFixture(name: string): InboundMessage {
  const raw = readFixture(name)
  const result = normalizeMessage(raw)
  assert.ok(result.ok, `${name}: ${result.ok ? '' : result.error.reason}`)
  assert.equal(result.value.raw, raw, 'raw is the parsed fields')
  return result.value
}

/** Everything but `raw` (and `fields`, the same object), for comparing with an expectation. */
function withoutRaw(message: InboundMessage): Record<string, unknown> {
  const { raw: _raw, ...rest } = message
  if ('fields' in rest) delete (rest as { fields?: unknown }).fields
  return rest
}

const at = (createTime: number) => ({ toUser: TO, fromUser: FROM, createTime })

/** Fixture file -> the member it must become, every field with its exact value and type. */
const EXPECTED: Record<string, Record<string, unknown>> = {
  'text.xml': { kind: 'text', ...at(1348831860), msgId: '1234567890123456', content: '  hello,  世界  \ntwo lines ', bizmsgmenuid: undefined, msgDataId: undefined, idx: undefined },
  'text-msgid-over-2pow53.xml': { kind: 'text', ...at(1700000000), msgId: '9223372036854775807', content: 'big id', bizmsgmenuid: undefined, msgDataId: undefined, idx: undefined },
  // seeds/003: WeEngine's own sample text message, as it prints it (no MsgId; spaces between the elements).
  'text-without-msgid.xml': { kind: 'text', toUser: 'toUser', fromUser: 'fromUser', createTime: 12345678, msgId: undefined, content: '你好!', bizmsgmenuid: undefined, msgDataId: undefined, idx: undefined },
  'text-bizmsgmenuid.xml': { kind: 'text', ...at(1700000001), msgId: '24017532598361234', content: '满意', bizmsgmenuid: '101', msgDataId: undefined, idx: undefined },
  'text-from-article.xml': {
    kind: 'text', ...at(1700000002), msgId: '24017532598361235', content: 'from an article', bizmsgmenuid: undefined, msgDataId: '2247483661', idx: 2,
  },
  'image.xml': { kind: 'image', ...at(1348831860), msgId: '1234567890123457', picUrl: 'http://mmbiz.qpic.cn/mmbiz_jpg/abc/0', mediaId: 'media_id_image_1', msgDataId: undefined, idx: undefined },
  'voice.xml': { kind: 'voice', ...at(1357290913), msgId: '1234567890123458', mediaId: 'media_id_voice_1', format: 'amr', recognition: undefined, mediaId16K: undefined, msgDataId: undefined, idx: undefined },
  'voice-recognition.xml': { kind: 'voice', ...at(1357290913), msgId: '1234567890123459', mediaId: 'media_id_voice_2', format: 'amr', recognition: '腾讯微信团队', mediaId16K: undefined, msgDataId: undefined, idx: undefined },
  'voice-16k.xml': {
    kind: 'voice', ...at(1357290914), msgId: '1234567890123470', mediaId: 'media_id_voice_3', format: 'amr', recognition: undefined,
    mediaId16K: 'media_id_voice_3_16k', msgDataId: undefined, idx: undefined,
  },
  'video.xml': { kind: 'video', ...at(1357290913), msgId: '1234567890123460', mediaId: 'media_id_video_1', thumbMediaId: 'thumb_media_id_1', msgDataId: undefined, idx: undefined },
  'shortvideo.xml': { kind: 'shortvideo', ...at(1357290913), msgId: '1234567890123461', mediaId: 'media_id_short_1', thumbMediaId: 'thumb_media_id_2', msgDataId: undefined, idx: undefined },
  'location.xml': { kind: 'location', ...at(1351776360), msgId: '1234567890123462', locationX: 23.134521, locationY: 113.358803, scale: 20, label: '位置信息', msgDataId: undefined, idx: undefined },
  'link.xml': { kind: 'link', ...at(1351776360), msgId: '1234567890123463', title: '公众平台官网链接', description: '公众平台官网链接', url: 'https://mp.weixin.qq.com/s?a=1&b=2', msgDataId: undefined, idx: undefined },
  'file.xml': {
    kind: 'file', ...at(1700000100), msgId: '6581234567890123464', title: 'report.pdf', description: '12.3 KB',
    fileKey: '5f0b7c0e6a1f4a2c9b3d', fileMd5: '0cc175b9c0f1b6a831c399e269772661', fileTotalLen: 12595,
  },
  'miniprogrampage.xml': {
    kind: 'miniprogrampage', ...at(1700000200), msgId: '6581234567890123465', appId: 'wx1234567890abcdef', title: '小程序卡片',
    pagePath: 'pages/index/index?id=1', thumbUrl: 'http://mmbiz.qpic.cn/thumb/0', thumbMediaId: 'thumb_media_id_3',
  },
  'event-subscribe.xml': { kind: 'subscribe', ...at(123456789), event: 'subscribe', eventKey: '', scene: undefined, ticket: undefined },
  'event-subscribe-qrscene.xml': {
    kind: 'subscribe', ...at(123456789), event: 'subscribe', eventKey: 'qrscene_123123', scene: '123123',
    ticket: 'gQH47joAAAAAAAAAASxodHRwOi8vd2VpeGluLnFxLmNvbS9xL2taZ2Z3TVRtNzJXV1Brb3ZhYmJJAAIEZ23sUwMEmm3sUw==',
  },
  'event-unsubscribe.xml': { kind: 'unsubscribe', ...at(123456789), event: 'unsubscribe' },
  'event-scan.xml': { kind: 'scan', ...at(123456789), event: 'SCAN', eventKey: 'SCENE_VALUE', scene: 'SCENE_VALUE', ticket: 'TICKET' },
  'event-location.xml': { kind: 'location_report', ...at(123456789), event: 'LOCATION', latitude: 23.137466, longitude: 113.352425, precision: 119.38504 },
  'event-click.xml': { kind: 'click', ...at(123456789), event: 'CLICK', eventKey: 'V1001_TODAY_MUSIC' },
  'event-click-lowercase.xml': { kind: 'click', ...at(123456790), event: 'click', eventKey: 'V1001_GOOD' },
  'event-view.xml': { kind: 'view', ...at(123456789), event: 'VIEW', eventKey: 'http://www.qq.com/', menuId: '415046063' },
  'event-scancode-push.xml': { kind: 'scancode_push', ...at(1408090502), event: 'scancode_push', eventKey: '6', scanType: 'qrcode', scanResult: '1' },
  'event-scancode-waitmsg.xml': { kind: 'scancode_waitmsg', ...at(1408090606), event: 'scancode_waitmsg', eventKey: '6', scanType: 'qrcode', scanResult: '2' },
  'event-pic-sysphoto.xml': {
    kind: 'pic_sysphoto', ...at(1408090651), event: 'pic_sysphoto', eventKey: '6', count: 1, picMd5Sums: ['1b5f7c23b5bf75682a53e7b6d163e185'],
  },
  'event-pic-photo-or-album.xml': {
    kind: 'pic_photo_or_album', ...at(1408090816), event: 'pic_photo_or_album', eventKey: '6', count: 2,
    picMd5Sums: ['5a75aaca956d97be686719218f275c6b', '0cc175b9c0f1b6a831c399e269772661'],
  },
  'event-pic-weixin.xml': {
    kind: 'pic_weixin', ...at(1408090816), event: 'pic_weixin', eventKey: '6', count: 1, picMd5Sums: ['5a75aaca956d97be686719218f275c6b'],
  },
  'event-location-select.xml': {
    kind: 'location_select', ...at(1408091189), event: 'location_select', eventKey: '6', locationX: 23, locationY: 113, scale: 15,
    label: ' 广州市海珠区客村艺苑路 106号', poiname: '',
  },
  'event-view-miniprogram.xml': { kind: 'view_miniprogram', ...at(1408091189), event: 'view_miniprogram', eventKey: 'pages/index/index', menuId: 'MENUID' },
  'event-masssendjobfinish.xml': {
    kind: 'masssend_job_finish', ...at(1481013459), event: 'MASSSENDJOBFINISH', msgId: '1000001625', status: 'err(30003)',
    totalCount: 0, filterCount: 0, sentCount: 0, errorCount: 0,
    copyrightCheckResult: {
      count: 2,
      checkState: 2,
      resultList: [
        { articleIdx: 1, userDeclareState: 0, auditState: 2, originalArticleUrl: 'Url_1', originalArticleType: 1, canReprint: 1, needReplaceContent: 1, needShowReprintSource: 1 },
        { articleIdx: 2, userDeclareState: 0, auditState: 2, originalArticleUrl: 'Url_2', originalArticleType: 1, canReprint: 1, needReplaceContent: 1, needShowReprintSource: 1 },
      ],
    },
    articleUrlResult: { count: 1, resultList: [{ articleIdx: 1, articleUrl: 'https://mp.weixin.qq.com/s/abc' }] },
  },
  'event-masssendjobfinish-plain.xml': {
    kind: 'masssend_job_finish', ...at(1394524295), event: 'MASSSENDJOBFINISH', msgId: '1988', status: 'sendsuccess',
    totalCount: 100, filterCount: 80, sentCount: 75, errorCount: 5, copyrightCheckResult: undefined, articleUrlResult: undefined,
  },
  'event-templatesendjobfinish.xml': { kind: 'template_send_job_finish', ...at(1395658920), event: 'TEMPLATESENDJOBFINISH', msgId: '200163836', status: 'success' },
  'event-subscribe-msg-popup.xml': {
    kind: 'subscribe_msg_popup', ...at(1610969440), event: 'subscribe_msg_popup_event',
    list: [
      { templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', subscribeStatusString: 'accept', popupScene: 2 },
      { templateId: '9nLIlbOQZC5Y89AZteFEux3WCXRRRG5Wfzkpssu4bLI', subscribeStatusString: 'reject', popupScene: 2 },
    ],
  },
  'event-subscribe-msg-popup-single.xml': {
    kind: 'subscribe_msg_popup', ...at(1610969441), event: 'subscribe_msg_popup_event',
    list: [{ templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', subscribeStatusString: 'accept', popupScene: 1 }],
  },
  'event-subscribe-msg-change.xml': {
    kind: 'subscribe_msg_change', ...at(1610969468), event: 'subscribe_msg_change_event',
    list: [{ templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', subscribeStatusString: 'reject' }],
  },
  'event-subscribe-msg-sent.xml': {
    kind: 'subscribe_msg_sent', ...at(1610969468), event: 'subscribe_msg_sent_event',
    list: [{ templateId: 'VRR0UEO9VJOLs0MHlU0OilqX6MVFDwH3_3gz3Oc0NIc', msgId: '1700827132819554304', errorCode: 0, errorStatus: 'success' }],
  },
  'event-publishjobfinish.xml': {
    kind: 'publish_job_finish', ...at(1481013459), event: 'PUBLISHJOBFINISH', publishId: '2247503051', publishStatus: 0,
    articleId: 'b5O2OUs25HBxRceL7hfReg-U9QGeq9zQjiDvyWP4Hq4',
    articleDetail: {
      count: 2,
      items: [
        { idx: 1, articleUrl: 'https://mp.weixin.qq.com/s/first' },
        { idx: 2, articleUrl: 'https://mp.weixin.qq.com/s/second' },
      ],
    },
    failIdx: [],
  },
  'event-publishjobfinish-failed.xml': {
    kind: 'publish_job_finish', ...at(1481013460), event: 'PUBLISHJOBFINISH', publishId: '2247503052', publishStatus: 2,
    articleId: undefined, articleDetail: { count: 0, items: [] }, failIdx: [1, 2],
  },
  'event-kf-create-session.xml': { kind: 'kf_create_session', ...at(1399197672), event: 'kf_create_session', kfAccount: 'test1@test' },
  'event-kf-close-session.xml': { kind: 'kf_close_session', ...at(1399197672), event: 'kf_close_session', kfAccount: 'test1@test' },
  'event-kf-switch-session.xml': { kind: 'kf_switch_session', ...at(1399197672), event: 'kf_switch_session', fromKfAccount: 'test1@test', toKfAccount: 'test2@test' },
  'event-card-pass-check.xml': { kind: 'card_pass_check', ...at(1442401156), event: 'card_pass_check', cardId: '4rZ3FcGJGjn4CVIpEHzLbLXh7iDs', refuseReason: '' },
  'event-card-not-pass-check.xml': { kind: 'card_not_pass_check', ...at(1442401156), event: 'card_not_pass_check', cardId: '4rZ3FcGJGjn4CVIpEHzLbLXh7iDs', refuseReason: '非法代制' },
  'event-user-get-card.xml': {
    kind: 'user_get_card', toUser: 'gh_fc0a06a20993', fromUser: 'oZI8Fj040-be6rlDohc6gkoPOQTQ', createTime: 1472551036, event: 'user_get_card',
    cardId: 'pZI8Fjwsy5fVPRBeD78J4RmqVvBc', userCardCode: '226009850808', isGiveByFriend: 0, friendUserName: '', oldUserCardCode: '',
    outerId: 0, outerStr: '12b', isRestoreMemberCard: 0, isRecommendByFriend: 0, unionId: undefined,
  },
  'event-user-gifting-card.xml': {
    kind: 'user_gifting_card', ...at(1474181868), event: 'user_gifting_card', cardId: 'pZI8Fj_ZdN9Cbx3yIH2dpsjmqVgQ', userCardCode: '791411623584',
    friendUserName: 'odVy0jmbG4LbVx1lBbq8bWUi0Ek8', isReturnBack: 0, isChatRoom: 0,
  },
  'event-user-del-card.xml': { kind: 'user_del_card', ...at(1427697735), event: 'user_del_card', cardId: 'cardid', userCardCode: '12312312' },
  'event-user-consume-card.xml': {
    kind: 'user_consume_card', ...at(1472549042), event: 'user_consume_card', cardId: 'pZI8Fj8y-E8hpvho2d1ZvpGwQBvA', userCardCode: '452998530302',
    consumeSource: 'FROM_API', locationName: '', staffOpenId: 'oZ********nJ3bPJu_Rtjkw4c', verifyCode: '', remarkAmount: '', outerStr: 'xxxxx',
  },
  'event-user-pay-from-pay-cell.xml': {
    kind: 'user_pay_from_pay_cell', ...at(1450641990), event: 'User_pay_from_pay_cell', cardId: 'po2VNuCuRo-8sxxxxxxxxxxx',
    userCardCode: '38050000000', transId: '10022403432015000000000', locationId: '291710000', fee: 10000, originalFee: 10000,
  },
  'event-user-view-card.xml': { kind: 'user_view_card', ...at(1446605214), event: 'user_view_card', cardId: 'pbLatjtZ7v1BG_ZnTjbW85GYc_E8', userCardCode: '018255396048', outerStr: '12b' },
  'event-user-enter-session-from-card.xml': {
    kind: 'user_enter_session_from_card', ...at(1446605214), event: 'user_enter_session_from_card', cardId: 'pbLatjtZ7v1BG_ZnTjbW85GYc_E8', userCardCode: '018255396048',
  },
  'event-update-member-card.xml': {
    kind: 'update_member_card', ...at(1445507140), event: 'update_member_card', cardId: 'pbLatjtZ7v1BG_ZnTjbW85GYc_E8', userCardCode: '018255396048',
    modifyBonus: 3, modifyBalance: -20,
  },
  'event-card-sku-remind.xml': { kind: 'card_sku_remind', ...at(1442426281), event: 'card_sku_remind', cardId: 'pDF3iY0_dVjb_Pua96MMewA96qvA', detail: "the card's quantity is equal to 0" },
  'event-card-pay-order.xml': {
    kind: 'card_pay_order', ...at(1453295737), event: 'card_pay_order', orderId: '404091456', status: 'ORDER_STATUS_FINANCE_SUCC',
    createOrderTime: 1453295727, payFinishTime: 1453295737, desc: '', freeCoinCount: 200, payCoinCount: 0, refundFreeCoinCount: 0,
    refundPayCoinCount: 0, orderType: 'ORDER_TYPE_SYS_ADD', memo: '开通账户奖励', receiptInfo: '',
  },
  'event-submit-membercard-user-info.xml': {
    kind: 'submit_membercard_user_info', ...at(1432668700), event: 'submit_membercard_user_info', cardId: 'pbLatjtZ7v1BG_ZnTjbW85GYc_E8', userCardCode: '018255396048',
  },
  'event-qualification-verify-success.xml': { kind: 'qualification_verify_success', ...at(1442401156), event: 'qualification_verify_success', expiredTime: 1442401156 },
  'event-qualification-verify-fail.xml': { kind: 'qualification_verify_fail', ...at(1442401156), event: 'qualification_verify_fail', failTime: 1442401122, failReason: 'by time' },
  'event-naming-verify-success.xml': { kind: 'naming_verify_success', ...at(1442401093), event: 'naming_verify_success', expiredTime: 1442401093 },
  'event-naming-verify-fail.xml': { kind: 'naming_verify_fail', ...at(1442401061), event: 'naming_verify_fail', failTime: 1442401061, failReason: 'by time' },
  'event-annual-renew.xml': { kind: 'annual_renew', ...at(1442401004), event: 'annual_renew', expiredTime: 1442401004 },
  'event-verify-expired.xml': { kind: 'verify_expired', ...at(1442400900), event: 'verify_expired', expiredTime: 1442400900 },
  'unknown-type.xml': { kind: 'unknown', ...at(1700000300), msgType: 'hologram', msgId: '6581234567890123466', reason: undefined },
  'unknown-event.xml': { kind: 'unknown', ...at(1700000400), msgType: 'event', event: 'WXA_NEW_THING', msgId: undefined, reason: undefined },
}

for (const [file, expected] of Object.entries(EXPECTED)) {
  test(`${file} -> ${String(expected.kind)}`, () => {
    assert.deepStrictEqual(withoutRaw(normalizeFixture(file)), expected)
  })
}

test('every fixture has an expectation, and every kind has a fixture', () => {
  const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.xml')).sort()
  assert.deepStrictEqual(files, Object.keys(EXPECTED).sort())
  const covered = new Set(Object.values(EXPECTED).map((e) => e.kind))
  assert.deepStrictEqual(MESSAGE_KINDS.filter((k) => !covered.has(k)), [])
})

test('a MsgId over 2^53 stays exact: it never passes through a number', () => {
  const m = normalizeFixture('text-msgid-over-2pow53.xml')
  assert.equal(m.kind, 'text')
  if (m.kind !== 'text') return
  if (typeof m.msgId !== 'string') return assert.fail(`msgId is ${typeof m.msgId}`)
  assert.equal(BigInt(m.msgId), 2n ** 63n - 1n)
  assert.notEqual(String(Number(m.msgId)), m.msgId, 'the id is one a number would round')
})

test('numeric fields are numbers and ids are strings, by type not only by value', () => {
  const loc = normalizeFixture('location.xml')
  assert.equal(loc.kind, 'location')
  if (loc.kind !== 'location') return
  for (const v of [loc.createTime, loc.locationX, loc.locationY, loc.scale]) assert.equal(typeof v, 'number')
  const pub = normalizeFixture('event-publishjobfinish.xml')
  if (pub.kind !== 'publish_job_finish') return assert.fail(pub.kind)
  assert.equal(typeof pub.publishId, 'string')
  assert.equal(typeof pub.articleDetail.items[0]?.idx, 'number')
})

test('single repeated entries are arrays of one', () => {
  const popup = normalizeFixture('event-subscribe-msg-popup-single.xml')
  if (popup.kind !== 'subscribe_msg_popup') return assert.fail(popup.kind)
  assert.ok(Array.isArray(popup.list))
  assert.equal(popup.list.length, 1)
  const pics = normalizeFixture('event-pic-sysphoto.xml')
  if (pics.kind !== 'pic_sysphoto') return assert.fail(pics.kind)
  assert.deepStrictEqual(pics.picMd5Sums.length, 1)
})

test('unknown keeps every field, nested and repeated ones included', () => {
  const m = normalizeFixture('unknown-event.xml')
  if (m.kind !== 'unknown') return assert.fail(m.kind)
  assert.equal(m.fields, m.raw)
  assert.deepStrictEqual(JSON.parse(JSON.stringify(m.fields)), {
    ToUserName: TO, FromUserName: FROM, CreateTime: '1700000400', MsgType: 'event', Event: 'WXA_NEW_THING',
    Payload: { Id: '42', Note: 'kept' }, Tag: ['a', 'b'],
  })
  const t = normalizeFixture('unknown-type.xml')
  if (t.kind !== 'unknown') return assert.fail(t.kind)
  assert.deepStrictEqual(JSON.parse(JSON.stringify(t.fields.Frames)), { Frame: ['1', '2'] })
})

const base = '<ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[o_1]]></FromUserName><CreateTime>1700000000</CreateTime>'

function normalizeXml(inner: string) {
  const parsed = parseXml(`<xml>${inner}</xml>`)
  assert.ok(parsed.ok)
  return normalizeMessage(parsed.value)
}

const MISSING: [string, string, string][] = [
  ['ToUserName absent', '<FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>', 'ToUserName is absent'],
  ['FromUserName absent', '<ToUserName>g</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>', 'FromUserName is absent'],
  ['MsgType absent', `${base}<Content>x</Content>`, 'MsgType is absent'],
  ['CreateTime absent', '<ToUserName>g</ToUserName><FromUserName>o</FromUserName><MsgType>text</MsgType>', 'CreateTime is absent'],
  ['CreateTime not a number', '<ToUserName>g</ToUserName><FromUserName>o</FromUserName><CreateTime>soon</CreateTime><MsgType>text</MsgType>', 'CreateTime is not an integer'],
  ['ToUserName repeated', `<ToUserName>a</ToUserName>${base}<MsgType>text</MsgType>`, 'ToUserName is not text'],
  ['MsgType nested', `${base}<MsgType><A>text</A></MsgType>`, 'MsgType is not text'],
  // Found by a robustness review: an empty sender made every such message one user (one session, one lock);
  // a megabyte one went whole into the dedup key, the log row and log lines.
  ['FromUserName empty', '<ToUserName>g</ToUserName><FromUserName></FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>', 'FromUserName is empty'],
  ['FromUserName blank', '<ToUserName>g</ToUserName><FromUserName><![CDATA[ \t ]]></FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>', 'FromUserName is blank (only whitespace)'],
  ['ToUserName blank', '<ToUserName><![CDATA[   ]]></ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>', 'ToUserName is blank (only whitespace)'],
  ['ToUserName empty', '<ToUserName><![CDATA[]]></ToUserName><FromUserName>o</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>', 'ToUserName is empty'],
  ['FromUserName past 128 characters', `<ToUserName>g</ToUserName><FromUserName>${'o'.repeat(129)}</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>`, 'FromUserName is 129 characters, more than the 128 an id can have'],
]
test('an id of 128 characters is taken', () => {
  const r = normalizeXml(`<ToUserName>g</ToUserName><FromUserName>${'o'.repeat(128)}</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>hi</Content><MsgId>1</MsgId>`)
  assert.ok(r.ok && r.value.kind === 'text' && r.value.fromUser.length === 128)
})
for (const [name, inner, reason] of MISSING) {
  test(`MISSING_FIELD: ${name}`, () => {
    assert.deepStrictEqual(normalizeXml(inner), { ok: false, error: { code: 'MISSING_FIELD', reason } })
  })
}

/** A known type that does not fit its member becomes unknown with all its fields and a reason. */
const MISFITS: [string, string, string][] = [
  ['Event absent on MsgType=event', '<MsgType>event</MsgType><EventKey>k</EventKey>', 'Event is absent'],
  ['text without Content', '<MsgType>text</MsgType><MsgId>1</MsgId>', 'Content is absent'],
  ['text with a nested MsgId', '<MsgType>text</MsgType><Content>hi</Content><MsgId><A>1</A></MsgId>', 'MsgId is not text'],
  ['location with a bad Scale', '<MsgType>location</MsgType><MsgId>7</MsgId><Location_X>1.5</Location_X><Location_Y>2</Location_Y><Scale>abc</Scale><Label>l</Label>', 'Scale is not a number: "abc"'],
  ['location with an empty coordinate', '<MsgType>location</MsgType><MsgId>7</MsgId><Location_X></Location_X><Location_Y>2</Location_Y><Scale>1</Scale><Label>l</Label>', 'Location_X is not a number: ""'],
  ['location with a hex coordinate', '<MsgType>location</MsgType><MsgId>7</MsgId><Location_X>0x10</Location_X><Location_Y>2</Location_Y><Scale>1</Scale><Label>l</Label>', 'Location_X is not a number: "0x10"'],
  ['pic event count over 2^53', '<MsgType>event</MsgType><Event>pic_weixin</Event><EventKey>k</EventKey><SendPicsInfo><Count>99999999999999999</Count></SendPicsInfo>', 'Count is not an integer: "99999999999999999"'],
  ['scancode without ScanCodeInfo', '<MsgType>event</MsgType><Event>scancode_push</Event><EventKey>k</EventKey>', 'ScanCodeInfo is absent'],
  ['click with a nested EventKey', '<MsgType>event</MsgType><Event>CLICK</Event><EventKey><A>1</A></EventKey>', 'EventKey is not text'],
  ['popup with a text List', '<MsgType>event</MsgType><Event>subscribe_msg_popup_event</Event><SubscribeMsgPopupEvent><List>x</List></SubscribeMsgPopupEvent>', 'List has no child elements'],
  ['publish with a bad fail_idx', '<MsgType>event</MsgType><Event>PUBLISHJOBFINISH</Event><PublishEventInfo><publish_id>1</publish_id><publish_status>2</publish_status><fail_idx>one</fail_idx></PublishEventInfo>', 'fail_idx is not an integer: "one"'],
  ['optional number that does not parse', '<MsgType>event</MsgType><Event>user_get_card</Event><CardId>c</CardId><UserCardCode>1</UserCardCode><IsGiveByFriend>0</IsGiveByFriend><OuterId>x</OuterId>', 'OuterId is not an integer: "x"'],
]
for (const [name, inner, reason] of MISFITS) {
  test(`unknown, never dropped: ${name}`, () => {
    const result = normalizeXml(base + inner)
    assert.ok(result.ok)
    const m = result.value
    if (m.kind !== 'unknown') return assert.fail(`became ${m.kind}`)
    assert.equal(m.reason, reason)
    assert.equal(m.fields, m.raw)
    assert.equal(m.createTime, 1700000000)
    assert.ok(Object.keys(m.fields).length >= 5)
  })
}

test('an optional list holding only whitespace (pretty-printed) is an empty list, not a misfit', () => {
  const pics = normalizeXml(`${base}<MsgType>event</MsgType><Event>pic_weixin</Event><EventKey>6</EventKey><SendPicsInfo><Count>0</Count><PicList>\n    </PicList></SendPicsInfo>`)
  assert.ok(pics.ok)
  assert.equal(pics.value.kind, 'pic_weixin')
  if (pics.value.kind === 'pic_weixin') assert.deepEqual(pics.value.picMd5Sums, [])
  const publish = normalizeXml(`${base}<MsgType>event</MsgType><Event>PUBLISHJOBFINISH</Event><PublishEventInfo><publish_id>1</publish_id><publish_status>0</publish_status><article_id>a</article_id><article_detail>\n</article_detail></PublishEventInfo>`)
  assert.ok(publish.ok)
  assert.equal(publish.value.kind, 'publish_job_finish')
  // Text that is not whitespace is still a misfit: it is not a list.
  const text = normalizeXml(`${base}<MsgType>event</MsgType><Event>pic_weixin</Event><EventKey>6</EventKey><SendPicsInfo><Count>0</Count><PicList>x</PicList></SendPicsInfo>`)
  assert.ok(text.ok)
  assert.equal(text.value.kind, 'unknown')
})

test('a user message without MsgId, or with it empty, is still its type, its msgId undefined', () => {
  const kinds: [string, string][] = [
    ['text', '<Content>hi</Content>'],
    ['image', '<PicUrl>u</PicUrl><MediaId>m</MediaId>'],
    ['voice', '<MediaId>m</MediaId><Format>amr</Format>'],
    ['video', '<MediaId>m</MediaId><ThumbMediaId>t</ThumbMediaId>'],
    ['shortvideo', '<MediaId>m</MediaId><ThumbMediaId>t</ThumbMediaId>'],
    ['location', '<Location_X>23.1</Location_X><Location_Y>113.3</Location_Y><Scale>20</Scale><Label>l</Label>'],
    ['link', '<Title>t</Title><Description>d</Description><Url>u</Url>'],
    ['file', '<Title>t</Title><Description>d</Description><FileKey>k</FileKey><FileMd5>5</FileMd5><FileTotalLen>3</FileTotalLen>'],
    ['miniprogrampage', '<AppId>a</AppId><Title>t</Title><PagePath>p</PagePath><ThumbUrl>u</ThumbUrl><ThumbMediaId>t</ThumbMediaId>'],
  ]
  for (const [kind, fields] of kinds) {
    for (const msgId of ['', '<MsgId></MsgId>', '<MsgId><![CDATA[]]></MsgId>']) {
      const r = normalizeXml(`${base}<MsgType>${kind}</MsgType>${fields}${msgId}`)
      assert.ok(r.ok, `${kind} ${msgId}`)
      assert.equal(r.value.kind, kind, `${kind} ${msgId}: ${'reason' in r.value ? r.value.reason : ''}`)
      assert.ok('msgId' in r.value, 'the key is there, as every optional field the push lacks')
      assert.equal(r.value.msgId, undefined)
    }
    const withId = normalizeXml(`${base}<MsgType>${kind}</MsgType>${fields}<MsgId>42</MsgId>`)
    assert.ok(withId.ok && withId.value.kind === kind && 'msgId' in withId.value && withId.value.msgId === '42', kind)
  }
})

test('MsgType and Event are read without the whitespace around them (a pretty-printed push); the fields keep it', () => {
  const text = normalizeXml(`${base}<MsgType>\n    text\n  </MsgType><Content>hi</Content><MsgId>1</MsgId>`)
  assert.ok(text.ok && text.value.kind === 'text' && text.value.content === 'hi')
  assert.equal(text.value.raw.MsgType, '\n    text\n  ')
  const click = normalizeXml(`${base}<MsgType> event </MsgType><Event>\n CLICK \n</Event><EventKey>k</EventKey>`)
  assert.ok(click.ok)
  if (click.value.kind !== 'click') return assert.fail(`became ${click.value.kind}`)
  assert.equal(click.value.event, '\n CLICK \n', 'event as received')
  assert.equal(click.value.eventKey, 'k')
  // An unknown event pushed so still says it is an event.
  const other = normalizeXml(`${base}<MsgType> event </MsgType><Event> no_such_event </Event>`)
  assert.ok(other.ok && other.value.kind === 'unknown' && 'event' in other.value && other.value.event === ' no_such_event ')
  // Whitespace inside the name is not trimmed away: a different name.
  const inside = normalizeXml(`${base}<MsgType>te xt</MsgType><Content>hi</Content><MsgId>1</MsgId>`)
  assert.ok(inside.ok && inside.value.kind === 'unknown')
})

test('the unknown keeps the MsgId for dedup, and the Event as received', () => {
  const r = normalizeXml(`${base}<MsgType>text</MsgType><MsgId>9223372036854775806</MsgId>`)
  assert.ok(r.ok && r.value.kind === 'unknown')
  if (r.value.kind !== 'unknown') return
  assert.equal(r.value.msgId, '9223372036854775806')
  assert.equal(r.value.msgType, 'text')
})

test('MsgType and Event are matched case-insensitively, and kept as received', () => {
  const r = normalizeXml(`${base}<MsgType>TEXT</MsgType><Content>x</Content><MsgId>5</MsgId>`)
  assert.ok(r.ok && r.value.kind === 'text')
  const e = normalizeXml(`${base}<MsgType>event</MsgType><Event>MassSendJobFinish</Event><MsgID>1</MsgID><Status>ok</Status><TotalCount>1</TotalCount><FilterCount>1</FilterCount><SentCount>1</SentCount><ErrorCount>0</ErrorCount>`)
  assert.ok(e.ok)
  if (e.value.kind !== 'masssend_job_finish') return assert.fail(e.value.kind)
  assert.equal(e.value.event, 'MassSendJobFinish')
})

test('event names that are Object.prototype members map to unknown, not to a prototype value', () => {
  for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
    const r = normalizeXml(`${base}<MsgType>event</MsgType><Event>${name}</Event>`)
    assert.ok(r.ok)
    assert.equal(r.value.kind, 'unknown', name)
    const t = normalizeXml(`${base}<MsgType>${name}</MsgType>`)
    assert.ok(t.ok)
    assert.equal(t.value.kind, 'unknown', name)
  }
})

test('subscribe with a non-qrscene EventKey has no scene but keeps the key', () => {
  const r = normalizeXml(`${base}<MsgType>event</MsgType><Event>subscribe</Event><EventKey>last_trade_no_123</EventKey>`)
  assert.ok(r.ok)
  if (r.value.kind !== 'subscribe') return assert.fail(r.value.kind)
  assert.equal(r.value.scene, undefined)
  assert.equal(r.value.eventKey, 'last_trade_no_123')
})

test('a menu event without MenuId is still its event: view and view_miniprogram alike (found by a protocol review)', () => {
  for (const [event, kind] of [['VIEW', 'view'], ['view_miniprogram', 'view_miniprogram']] as const) {
    const result = normalizeXml(`${base}<MsgType>event</MsgType><Event>${event}</Event><EventKey>pages/index</EventKey>`)
    assert.ok(result.ok)
    const m = result.value
    if (m.kind !== kind) return assert.fail(`${event} became ${m.kind}`)
    assert.equal(m.eventKey, 'pages/index')
    assert.equal(m.menuId, undefined)
  }
})

test('a location_select whose SendLocationInfo has no Poiname at all is still location_select, with an empty poiname (the seeds: it may be empty)', () => {
  const info = '<SendLocationInfo><Location_X>23</Location_X><Location_Y>113</Location_Y><Scale>15</Scale><Label>广州</Label></SendLocationInfo>'
  const result = normalizeXml(`${base}<MsgType>event</MsgType><Event>location_select</Event><EventKey>6</EventKey>${info}`)
  assert.ok(result.ok)
  const m = result.value
  if (m.kind !== 'location_select') return assert.fail(`became ${m.kind}`)
  assert.equal(m.poiname, '')
  assert.equal(m.label, '广州')
})

test("an unknown user message has no `event` key, an unknown event push has one: plugins tell them apart by 'event' in message (found by a routing review)", () => {
  const user = normalizeXml(`${base}<MsgType>hologram</MsgType><MsgId>5</MsgId>`)
  const misfit = normalizeXml(`${base}<MsgType>text</MsgType><Content>a</Content><Content>b</Content><MsgId>6</MsgId>`)
  const event = normalizeXml(`${base}<MsgType>event</MsgType><Event>future_event</Event>`)
  const eventless = normalizeXml(`${base}<MsgType>event</MsgType>`)
  assert.ok(user.ok && misfit.ok && event.ok && eventless.ok)
  assert.equal(user.value.kind, 'unknown')
  assert.equal(misfit.value.kind, 'unknown')
  assert.equal('event' in user.value, false)
  assert.equal('event' in misfit.value, false)
  assert.equal('event' in event.value, true)
  assert.equal(event.value.kind === 'unknown' && event.value.event, 'future_event')
  assert.equal('event' in eventless.value, true)
})
