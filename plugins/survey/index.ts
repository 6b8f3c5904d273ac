/**
 * A conversation over several messages, using the session lock.
 *
 * A rule sends `survey` here. The plugin begins a session: for the next 5 minutes every message the
 * user sends comes straight to this plugin, whatever the rules say. It asks one question per message,
 * keeps the answers in the session state, and at the end saves them in the user's storage and ends the
 * session. `cancel` or `取消` ends it early.
 *
 * Session calls (`begin`, `update`, `end`) are recorded and applied together with the reply, so the
 * question the user sees and the state that expects its answer always land together.
 */
import { definePlugin } from 'wxengine/plugin'

/** The state kept with the lock: which question is open and the answers so far. */
type SurveyState = { step: number; answers: string[] }

const QUESTIONS = [
  'Question 1/3: how did you hear about us?',
  'Question 2/3: what do you use this account for?',
  'Question 3/3: anything we should improve?',
]

/** Seconds the user has to answer each question; every answer restarts the clock. */
const ANSWER_WINDOW_S = 300

const CANCEL_WORDS = new Set(['cancel', '取消'])

export default definePlugin<Record<string, never>, SurveyState>({
  name: 'survey',

  async handle(ctx) {
    const { message, session } = ctx

    if (!session.active) {
      // The rule brought us here: start the survey.
      session.begin(ANSWER_WINDOW_S, { step: 0, answers: [] })
      return ctx.reply.text(`${QUESTIONS[0]}\n(Send "cancel" or "取消" to stop.)`)
    }

    // Events (a menu view, a location report, unsubscribe...) are not answers: let routing go on.
    if ('event' in message) return ctx.pass()

    // While the survey holds the conversation, a picture or a sticker still reaches us: ask for text.
    if (message.kind !== 'text') {
      return ctx.reply.text(`Please answer in text. ${QUESTIONS[session.state?.step ?? 0]}`)
    }

    const answer = message.content.trim()
    if (CANCEL_WORDS.has(answer.toLowerCase())) {
      session.end()
      return ctx.reply.text('Survey cancelled. Nothing was saved.')
    }

    const state = session.state ?? { step: 0, answers: [] }
    const answers = [...state.answers, answer]
    const step = state.step + 1

    if (step < QUESTIONS.length) {
      session.update({ step, answers })
      session.refresh(ANSWER_WINDOW_S)
      return ctx.reply.text(QUESTIONS[step])
    }

    // Last answer: keep the result with the user (purged with their data when they unsubscribe).
    await ctx.storage.user.set('survey', { answers, at: message.createTime })
    session.end()
    ctx.log.info('survey completed', { answers: answers.length })
    return ctx.reply.text(`Thank you! Your answers:\n${answers.map((a, i) => `${i + 1}. ${a}`).join('\n')}`)
  },
})
