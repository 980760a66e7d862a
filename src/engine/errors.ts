/** A problem in a pipeline file, located precisely enough for an editor to jump to it. */
export interface SourceLocation {
  file: string;
  line: number;
  col: number;
}

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

/** Exit codes that scripts can rely on. */
export const ExitCode = {
  ok: 0,
  stageFailed: 1,
  invalid: 2,
  interrupted: 130,
} as const;
