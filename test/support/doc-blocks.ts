/**
 * The shell code blocks of a Markdown file, as the README doc test runs them
 * (test/e2e/readme.test.ts). Conventions the READMEs follow:
 *
 * - a ```sh (or bash, shell) block is run; other languages are not shell;
 * - `<!-- doc-test: skip (reason) -->` on the line before a block skips it, for the reason;
 * - a command whose comment says `exit N` must exit N; every other command must exit 0;
 * - a block of `npx licensekit serve …` lines only is a store "in a second terminal": it
 *   runs in the background until the next such block or the end.
 */

export interface ShellBlock {
  /** 1-based line of the opening fence. */
  line: number;
  /** Why it is not run (a doc-test: skip comment), or undefined. */
  skip: string | undefined;
  commands: ShellCommand[];
  /** Only `licensekit serve` commands: a store running in the background. */
  server: boolean;
}

export interface ShellCommand {
  /** The command as written, continuation lines joined with their backslashes. */
  text: string;
  /** The exit status its comment promises (`exit 1`), else 0. */
  exit: number;
}

const FENCE = /^```(\w*)\s*$/;
const SHELL = new Set(['sh', 'bash', 'shell']);
const DIRECTIVE = /^<!--\s*doc-test:(.*)-->\s*$/;
const SKIP = /^\s*skip\s*\((.+)\)\s*$/;
const SERVER = /^npx licensekit serve\b/;
/** A comment: `#` after a blank, outside the command (the READMEs never quote a ` #`). */
const COMMENT = /\s#\s.*$/;

/** @throws Error for a doc-test comment that is not `skip (reason)`, or an unclosed fence */
export function shellBlocks(markdown: string): ShellBlock[] {
  const lines = markdown.split('\n');
  const blocks: ShellBlock[] = [];
  let previous = '';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    const fence = FENCE.exec(line);
    if (fence === null) {
      if (line.trim() !== '') previous = line.trim();
      continue;
    }
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++)
      body.push(lines[i] as string);
    if (i >= lines.length) throw new Error(`line ${start + 1}: a code block is never closed`);
    const directive = DIRECTIVE.exec(previous);
    previous = '';
    if (!SHELL.has(fence[1] ?? '')) continue;
    let skip: string | undefined;
    if (directive !== null) {
      const reason = SKIP.exec(directive[1] as string);
      if (reason === null)
        throw new Error(`line ${start}: a doc-test comment reads "skip (reason)"`);
      skip = (reason[1] as string).trim();
    }
    const commands = shellCommands(body);
    blocks.push({
      line: start + 1,
      skip,
      commands,
      server:
        commands.length > 0 &&
        commands.every((command) => SERVER.test(command.text.replace(COMMENT, ''))),
    });
  }
  return blocks;
}

/** The commands of a block: continuations joined, blank and comment-only lines left out. */
export function shellCommands(lines: readonly string[]): ShellCommand[] {
  const commands: ShellCommand[] = [];
  let pending: string[] = [];
  for (const line of lines) {
    if (pending.length === 0 && (line.trim() === '' || line.trim().startsWith('#'))) continue;
    pending.push(line);
    if (line.trimEnd().endsWith('\\')) continue;
    const text = pending.join('\n');
    const comment = COMMENT.exec(line)?.[0] ?? '';
    const exit = /\bexit (\d+)\b/.exec(comment);
    commands.push({ text, exit: exit === null ? 0 : Number(exit[1]) });
    pending = [];
  }
  if (pending.length > 0) commands.push({ text: pending.join('\n'), exit: 0 });
  return commands;
}

/** A bash script that runs the commands in order and stops at the first unexpected exit. */
export function checkedScript(commands: readonly ShellCommand[]): string {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  return commands
    .map((command) =>
      [
        `printf '%s\\n' ${quote(`$ ${command.text}`)}`,
        command.text,
        '__rc=$?',
        `if [ "$__rc" != "${command.exit}" ]; then printf 'doc-test: %s\\n  exited %s, expected ${command.exit}\\n' ${quote(command.text)} "$__rc" >&2; exit 97; fi`,
      ].join('\n'),
    )
    .join('\n');
}
