/**
 * Every `wxengine ...` command line the docs show names a command that exists, with options it takes, and
 * every option row of docs/cli.md's tables is an option of its command: asked of the command tree itself
 * (core/cli/program.ts), so a renamed or removed option, or a documented one never added, fails here.
 */
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import type { Command } from 'commander'
import { buildCli } from '../../core/cli/program.ts'

const root = path.resolve(import.meta.dirname, '../..')
const docs = ['README.md', ...readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]
const program = buildCli()

/** `-a, --account <id>` -> ['-a', '--account'], for a command and its parents (the global -C, -c). */
function optionsOf(cmd: Command): Set<string> {
  const names = new Set<string>(['-h', '--help'])
  for (let c: Command | null = cmd; c; c = c.parent) {
    for (const o of c.options) for (const n of [o.short, o.long]) if (n) names.add(n)
  }
  return names
}

/** The command a line names after `wxengine`, and the tokens left; undefined when none is named. */
function commandOf(tokens: string[]): { cmd: Command; rest: string[] } | undefined {
  let cmd: Command = program
  let i = 0
  // Global options come first: -C <dir>, -c <file>.
  while (i < tokens.length && (tokens[i] === '-C' || tokens[i] === '-c' || tokens[i] === '--root' || tokens[i] === '--config')) i += 2
  while (i < tokens.length && cmd.commands.length > 0) {
    const sub = cmd.commands.find((c) => c.name() === tokens[i])
    if (!sub) break
    cmd = sub
    i++
  }
  return cmd === program ? undefined : { cmd, rest: tokens.slice(i) }
}

/** Shell words of a command line, quotes removed, up to a comment or a pipe. */
function words(line: string): string[] {
  const out: string[] = []
  for (const m of line.matchAll(/'[^']*'|"[^"]*"|[^\s'"]+/g)) {
    const w = m[0]
    if (w.startsWith('#') || w === '|' || w === '>' || w === '&&' || w === '2>&1') break
    out.push(w.replace(/^['"]|['"]$/g, ''))
  }
  return out
}

/** Command lines: in ```sh blocks and in `inline code`, each from the `wxengine` on. */
function commandLines(): { where: string; tokens: string[] }[] {
  const found: { where: string; tokens: string[] }[] = []
  for (const file of docs) {
    const lines = readFileSync(path.join(root, file), 'utf8').split('\n')
    let inSh = false
    lines.forEach((line, i) => {
      if (/^```/.test(line)) {
        inSh = /^```(sh|bash|shell)$/.test(line) ? !inSh : false
        return
      }
      const spans = inSh ? [line] : [...line.matchAll(/`([^`]+)`/g)].map((m) => m[1]!)
      for (const span of spans) {
        const m = /(?:^|[\s$(])(?:npx |\.\/|npm run )?wxengine(?: --)? (.*)$/.exec(span)
        if (m) found.push({ where: `${file}:${i + 1}`, tokens: words(m[1]!) })
      }
    })
  }
  return found
}

test('docs: each wxengine command line names a command, and only options it takes', () => {
  const lines = commandLines()
  assert.ok(lines.length > 100, `found only ${lines.length} command lines`)
  const problems: string[] = []
  for (const { where, tokens } of lines) {
    // `wxengine <command> --help`, `wxengine --version` and prose such as "wxengine itself" name no command.
    if (tokens.length === 0 || !/^-?-?[a-z]/.test(tokens[0]!)) continue
    const named = commandOf(tokens)
    if (!named) {
      // A line that reads as a command (a word then an option or a value) but names none.
      if (/^[a-z]+$/.test(tokens[0]!) && tokens.length > 1 && tokens[1]!.startsWith('-') && program.commands.every((c) => c.name() !== tokens[0])) {
        problems.push(`${where}: no command "${tokens[0]}"`)
      }
      continue
    }
    const allowed = optionsOf(named.cmd)
    for (const t of named.rest) {
      const option = /^(--?[a-zA-Z][\w-]*)/.exec(t)?.[1]
      if (option && !allowed.has(option)) problems.push(`${where}: wxengine ${named.cmd.name()} has no ${option}`)
    }
  }
  assert.deepEqual(problems, [])
})

test("docs/cli.md: each option row of a command's table is one of its options", () => {
  const lines = readFileSync(path.join(root, 'docs/cli.md'), 'utf8').split('\n')
  const problems: string[] = []
  let cmd: Command | undefined
  let rows = 0
  lines.forEach((line, i) => {
    const heading = /^##+ `wxengine ([^`]+)`/.exec(line)
    if (heading) cmd = commandOf(words(heading[1]!).filter((w) => !w.startsWith('<') && !w.startsWith('[')))?.cmd
    if (/^## /.test(line) && !heading) cmd = line === '## Global options' ? program : undefined
    const row = /^\| `(-[^`]*)`/.exec(line)
    if (!row || !cmd) return
    for (const option of row[1]!.matchAll(/(?:^|[\s,])(--?[a-zA-Z][\w-]*)/g)) {
      rows++
      // A group's table (`wxengine mass`'s) is of its subcommands' options.
      const known = cmd.commands.length > 0 && cmd !== program ? new Set(cmd.commands.flatMap((c) => [...optionsOf(c)])) : optionsOf(cmd)
      if (!known.has(option[1]!)) problems.push(`docs/cli.md:${i + 1}: wxengine ${cmd.name()} has no ${option[1]}`)
    }
  })
  assert.ok(rows > 40, `found only ${rows} option rows`)
  assert.deepEqual(problems, [])
})
