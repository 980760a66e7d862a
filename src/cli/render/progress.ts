/** Progress arithmetic shared by the renderers: rate and ETA from a stream of (step, time) points. */
import { formatDuration } from '../common.js';

export class ProgressTracker {
  private first?: { step: number; time: number };
  private last?: { step: number; time: number; total?: number; note?: string };

  update(step: number, time: number, total?: number, note?: string): void {
    if (!this.first || step < this.first.step) this.first = { step, time };
    this.last = { step, time, total, note };
  }

  /** Steps per second since the first progress report of this run of the stage. */
  rate(): number | undefined {
    if (!this.first || !this.last || this.last.time <= this.first.time) return undefined;
    return (this.last.step - this.first.step) / ((this.last.time - this.first.time) / 1000);
  }

  describe(width = 24): string {
    const l = this.last;
    if (!l) return '';
    const rate = this.rate();
    const parts: string[] = [];
    if (l.total) {
      const frac = Math.min(1, l.step / l.total);
      const filled = Math.round(frac * width);
      parts.push(`[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${l.step}/${l.total}`);
    } else parts.push(`step ${l.step}`);
    if (rate !== undefined && rate > 0) {
      parts.push(`${rate >= 100 ? rate.toFixed(0) : rate.toFixed(1)} steps/s`);
      if (l.total) parts.push(`ETA ${formatDuration(((l.total - l.step) / rate) * 1000)}`);
    }
    if (l.note) parts.push(l.note);
    return parts.join('  ');
  }
}
