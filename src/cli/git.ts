import { execFileSync } from 'node:child_process';
import { dirname } from 'node:path';

/** The last commit that touched `file`, or undefined outside a git work tree. */
export function gitCommitOf(file: string): string | undefined {
  try {
    const out = execFileSync('git', ['log', '-1', '--format=%H', '--', file], { cwd: dirname(file), stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
    return out || undefined;
  } catch {
    return undefined;
  }
}
