/**
 * The single binary's size is said twice, in cli.md's `wxengine build` example and in deployment.md: they
 * said 106 and 119 MB. They must agree; and with WXENGINE_BINARY set to a binary just built (as for
 * test/binary), they must be its size, give or take 5%.
 */
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import { REPO } from '../cli/cli-harness.ts'

const doc = (name: string) => readFileSync(path.join(REPO, 'docs', name), 'utf8')

function sizesSaid(): { cli: number; deployment: number } {
  const cli = /^built dist\/wxengine: (\d+\.\d) MB in /m.exec(doc('cli.md'))
  const deployment = /gives a file of about (\d+) MB/.exec(doc('deployment.md'))
  assert.ok(cli, "cli.md's `wxengine build` example has no 'built dist/wxengine: <n> MB' line")
  assert.ok(deployment, "deployment.md says no 'gives a file of about <n> MB'")
  return { cli: Number(cli[1]), deployment: Number(deployment[1]) }
}

test("cli.md's build example and deployment.md give the binary the same size", () => {
  const { cli, deployment } = sizesSaid()
  // deployment.md rounds: to the nearest 10 MB at most.
  assert.ok(Math.abs(cli - deployment) <= 5, `cli.md says ${cli} MB, deployment.md about ${deployment} MB`)
})

test('the size said is the size of a binary just built (WXENGINE_BINARY)', { skip: process.env.WXENGINE_BINARY ? false : 'set WXENGINE_BINARY to a built binary' }, () => {
  const actual = statSync(process.env.WXENGINE_BINARY!).size / 1e6
  const { cli } = sizesSaid()
  assert.ok(Math.abs(cli - actual) / actual <= 0.05, `cli.md says ${cli} MB, the binary is ${actual.toFixed(1)} MB`)
})
