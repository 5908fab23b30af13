// How a load that went wrong outside the zone file (a bug, a thread gone) is reported: as the
// zone's one `file:0: message` error, so it reaches the `zone not loaded` log line and `ctl zones`.

export function failedOutcome(job: { file: string } | undefined, message: string): { kind: 'failed'; errors: string[]; warnings: string[]; sha256: string; files: string[] } {
  const file = job === undefined ? '?' : job.file;
  return { kind: 'failed', errors: [`${file}:0: ${message}`], warnings: [], sha256: '', files: [] };
}

/**
 * One line saying what was thrown and where (the first frame outside Node's own code). An error
 * cloned from another thread may arrive with an empty message and only its stack (a DOMException
 * does), so the stack's first line stands in for it.
 */
export function errorText(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const [head = '', ...frames] = (err.stack ?? '').split('\n');
  const what = err.message !== '' ? `${err.name}: ${err.message}` : head.trim() !== '' ? head.trim() : err.name;
  const at = frames.map((f) => f.trim()).filter((f) => f.startsWith('at '));
  const where = at.find((f) => !/\(node:|^at node:/.test(f)) ?? at[0];
  return where === undefined ? what : `${what} (${where})`;
}
