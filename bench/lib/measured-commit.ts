import { execFileSync } from 'node:child_process';

/**
 * What a cost figure measured: the last commit that changed src/, and whether src/ has
 * uncommitted changes on top (then the figure belongs to no commit).
 */
export function measuredCommit(): string {
  try {
    const last = execFileSync('git', ['log', '-1', '--format=%h', '--', 'src'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim() !== '';
    return dirty ? `${last} (src/ modified)` : last;
  } catch {
    return 'unknown';
  }
}
