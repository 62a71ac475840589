import { relative } from 'node:path';
import type { UserConsoleLog } from 'vitest';
import type { Reporter, TestModule, Vitest } from 'vitest/node';
import { skipLine } from './skip.js';

/**
 * Prints why tests were skipped, once, at the end of the run (after the summary): the
 * `skipping()` lines of test files (test/support/skip.ts) and the notes of
 * `context.skip(note)`, each reason once with the files it skipped; tests skipped without
 * a reason are counted, so none goes unmentioned.
 */
export default class SkipReporter implements Reporter {
  private vitest: Vitest | undefined;
  /** reason → the files it skipped something in. */
  private readonly reasons = new Map<string, Set<string>>();

  onInit(vitest: Vitest): void {
    this.vitest = vitest;
  }

  private note(reason: string, file: string | undefined): void {
    const files = this.reasons.get(reason) ?? new Set<string>();
    if (file !== undefined) files.add(file);
    this.reasons.set(reason, files);
  }

  private fileOf(taskId: string | undefined): string | undefined {
    if (taskId === undefined || this.vitest === undefined) return undefined;
    const task = this.vitest.state.idMap.get(taskId);
    return task === undefined ? undefined : relative(this.vitest.config.root, task.file.filepath);
  }

  onUserConsoleLog(log: UserConsoleLog): void {
    const reason = skipLine(log.content);
    if (reason !== undefined) this.note(reason, this.fileOf(log.taskId));
  }

  onTestRunEnd(modules: readonly TestModule[]): void {
    let unexplained = 0;
    for (const module of modules) {
      const file = relative(this.vitest?.config.root ?? '', module.moduleId);
      for (const test of module.children.allTests('skipped')) {
        const result = test.result();
        const note = result.state === 'skipped' ? result.note : undefined;
        if (note !== undefined && note !== '') this.note(note, file);
        else if (!this.explains(file)) unexplained++;
      }
    }
    if (this.reasons.size === 0 && unexplained === 0) return;
    const lines = ['', 'Skipped, and why:'];
    for (const [reason, files] of [...this.reasons].sort(([a], [b]) => a.localeCompare(b))) {
      const list = [...files].sort();
      const shown = list.slice(0, 3).join(', ');
      const more = list.length > 3 ? ` and ${list.length - 3} more` : '';
      lines.push(`  - ${reason}${list.length > 0 ? ` (${shown}${more})` : ''}`);
    }
    if (unexplained > 0) {
      lines.push(`  - ${unexplained} test(s) skipped without a reason (test.skip or test.todo)`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  /** Whether a skip line came from this file (its skipped tests are explained by it). */
  private explains(file: string): boolean {
    for (const files of this.reasons.values()) if (files.has(file)) return true;
    return false;
  }
}
