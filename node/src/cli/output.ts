import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { CoopNodeError } from '../errors';
import type { NodeEvent } from '../runtime/events';

/** Flags every command understands. */
export interface GlobalFlags {
  dir?: string;
  json?: boolean;
}

/** Prints a result: JSON (one line) with `--json`, else the human text. */
export function out(flags: GlobalFlags, human: string, data: unknown): void {
  process.stdout.write(flags.json ? `${JSON.stringify(data)}\n` : `${human}\n`);
}

const fmtMetric = (v: number | null) => (v === null ? 'n/a' : v.toFixed(4));

/** One human line per event (names and counts only, never data values). */
export function describeEvent(e: NodeEvent): string {
  switch (e.type) {
    case 'poll':
      return `polled: ${e.tasks} task${e.tasks === 1 ? '' : 's'} (member ${e.status})`;
    case 'retry':
      return `coordinator unreachable (attempt ${e.attempt}), retrying in ${(e.delayMs / 1000).toFixed(1)} s: ${e.reason}`;
    case 'reconnected':
      return `coordinator reachable again after ${e.afterAttempts} failed attempts`;
    case 'consent-synced':
      return 'consent sent to the coordinator';
    case 'consent-adopted':
      return "consent changed in the dashboard: adopted as this node's own setting";
    case 'consent-sync-failed':
      return `consent not yet synced (kept locally, retried later): ${e.reason}`;
    case 'refused':
      return `declined ${e.roundId} (${e.reason}): ${e.detail}`;
    case 'round-joined':
      return `taking part in ${e.kind} round ${e.roundId}`;
    case 'trained':
      return `trained ${e.modelId} on ${e.examples} examples${e.clipped ? ' (update clipped)' : ''}`;
    case 'evaluated':
      return `evaluated ${e.modelId}`;
    case 'benchmark-contributed':
      return `benchmark ${e.period}: contributed ${e.kpis.length} KPI${e.kpis.length === 1 ? '' : 's'}${e.kpis.length ? ` (${e.kpis.join(', ')})` : ''}`;
    case 'round-finished':
      return `round ${e.roundId} ${e.status}${e.resultVersion === null ? '' : ` → v${e.resultVersion}`}`;
    case 'round-error':
      return `round ${e.roundId} failed here: ${e.reason}`;
    case 'privacy-spent':
      return `privacy spent on ${e.modelId}: ε = ${e.epsilon.toFixed(3)} (member level)`;
    case 'model-stored':
      return `stored ${e.modelId} v${e.version}`;
    case 'personalized':
      return e.epochs === 0
        ? `personalized ${e.modelId} v${e.version}: the global model scores best on this shop's validation data (${e.metric} ${fmtMetric(e.global)}), served as it is`
        : `personalized ${e.modelId} v${e.version}: ${e.epochs} local epoch${e.epochs === 1 ? '' : 's'}, ${e.metric} on this shop's validation data ${fmtMetric(e.global)} → ${fmtMetric(e.kept)}`;
    case 'personalize-failed':
      return `could not personalize ${e.modelId} v${e.version} (serving the global model): ${e.reason}`;
  }
}

/**
 * A live progress line on stderr: rewritten in place on a terminal, one line per event
 * otherwise (logs). Stdout stays free for the command's result.
 */
export function progressLine(): { event(e: NodeEvent): void; done(): void } {
  const tty = process.stderr.isTTY;
  let shown = false;
  let lastPoll = '';
  return {
    event(e) {
      // In logs, a poll is worth a line only when something changed.
      if (!tty && e.type === 'poll') {
        const key = `${e.tasks}/${e.status}`;
        if (key === lastPoll) return;
        lastPoll = key;
      }
      const line = `coopfl-node: ${describeEvent(e)}`;
      if (tty) {
        // Polls and retries replace each other in place; outcomes stay on screen.
        const cols = process.stderr.columns || 100;
        const transient = e.type === 'poll' || e.type === 'retry';
        process.stderr.write(`\r\x1b[2K${line.slice(0, cols - 1)}${transient ? '' : '\n'}`);
        shown = transient;
      } else {
        process.stderr.write(`${line}\n`);
      }
    },
    done() {
      if (tty && shown) process.stderr.write('\n');
    },
  };
}

/** Reads a JSON document from a file or stdin (`-`). */
export async function readJsonInput(file: string): Promise<unknown> {
  const text =
    file === '-'
      ? await new Promise<string>((resolve, reject) => {
          let s = '';
          process.stdin.setEncoding('utf8');
          process.stdin.on('data', (c: string) => (s += c));
          process.stdin.on('end', () => resolve(s));
          process.stdin.on('error', reject);
        })
      : await readFile(file, 'utf8');
  try {
    return JSON.parse(text);
  } catch {
    throw new CoopNodeError(
      'InvalidArgument',
      `${file === '-' ? 'stdin' : basename(file)} is not valid JSON`,
    );
  }
}
