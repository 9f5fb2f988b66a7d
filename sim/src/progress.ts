/**
 * A one-line live progress display on stderr: a bar on a terminal, plain lines otherwise (CI logs).
 */
export function progressLine(label: string, done: number, total: number): void {
  const width = 24;
  const filled = Math.round((done / Math.max(total, 1)) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`;
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${label} ${bar}`);
  else process.stderr.write(`${label} ${bar}\n`);
}
