/** A path into the pipeline document (keys and indices), as load.ts locates it. */
export type FieldPath = ReadonlyArray<string | number>;

/** Maps a field path back to its line and column in the file (load.ts builds one per file). */
export interface Locator {
  /** Location of the value at `path` (or of its key when `key` is set), falling back to the nearest existing parent. */
  at(path: FieldPath, opts?: { key?: boolean }): SourceLocation;
}

export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

/** A problem in a pipeline file, located precisely enough for an editor to jump to it. */
export class PipelineError extends Error {
  constructor(
    message: string,
    readonly location: SourceLocation | undefined,
    /** Dotted path of the offending field, e.g. "stages.iql.with.steps". */
    readonly field: string | undefined,
  ) {
    super(message);
    this.name = 'PipelineError';
  }

  format(): string {
    const where = this.location ? `${this.location.file}:${this.location.line}:${this.location.col}` : '<pipeline>';
    const field = this.field ? ` [${this.field}]` : '';
    return `${where}: error${field}: ${this.message}`;
  }
}

/** Several validation problems reported together; nothing runs while any is present. */
export class PipelineErrors extends Error {
  constructor(readonly errors: PipelineError[]) {
    super(errors.map((e) => e.format()).join('\n'));
    this.name = 'PipelineErrors';
  }
}

/** Drops repeats (one error per instance of a matrix stage says the same thing) and ajv's oneOf summaries. */
export function dedupe(errors: PipelineError[]): PipelineError[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = e.format();
    if (seen.has(k) || /must match exactly one schema/.test(e.message)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * The errors of one planning pass. Every phase reports here and goes on, so a file with several
 * problems shows them all at once; the plan throws them together at the end of a phase that
 * later phases cannot survive.
 */
export class Diagnostics {
  readonly errors: PipelineError[] = [];
  constructor(private readonly locator: Locator) {}

  /** Location of the value at `path` in the file (of its key with `key`). */
  at(path: FieldPath, key = false): SourceLocation {
    return this.locator.at(path, { key });
  }

  /** An error about the field at `path`; `at` overrides the location (e.g. the --set that gave the value). */
  error(message: string, path: FieldPath, opts: { key?: boolean; at?: SourceLocation; field?: string } = {}): void {
    this.errors.push(new PipelineError(message, opts.at ?? this.at(path, opts.key), opts.field ?? path.join('.')));
  }

  add(e: PipelineError): void {
    this.errors.push(e);
  }

  get count(): number {
    return this.errors.length;
  }

  throwIfAny(): void {
    if (this.errors.length > 0) throw new PipelineErrors(dedupe(this.errors));
  }
}

/** Exit codes that scripts can rely on. */
export const ExitCode = {
  ok: 0,
  stageFailed: 1,
  invalid: 2,
  interrupted: 130,
} as const;
