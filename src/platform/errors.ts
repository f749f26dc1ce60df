/** An error meant for a person: the message says what went wrong and where. No stack trace is shown for it. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

/** Work refused for a while (the server is shutting down): the HTTP API answers 503, try again later. */
export class Unavailable extends UserError {
  constructor(message: string) {
    super(message, 75); // EX_TEMPFAIL
    this.name = 'Unavailable';
  }
}

/** Where a problem sits in a source file, for messages and the quarantine. */
export interface SourcePlace {
  file: string;
  line: number;
  field?: string;
}

export function placeText(p: SourcePlace): string {
  return `${p.file}:${p.line}${p.field ? ` field "${p.field}"` : ''}`;
}
