// Errors the program reports to people, each with a stable code. DNS outcomes (rcodes) are values,
// never exceptions; these are for bad input that stops a start-up or a command.

export type ErrorCode = 'CONFIG' | 'USAGE';

export class AnycastDnsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AnycastDnsError';
  }
}

/** A bad configuration value; the message always names the key (e.g. `tcp.idle_timeout`). */
export class ConfigError extends AnycastDnsError {
  constructor(
    readonly key: string,
    detail: string,
  ) {
    super('CONFIG', `config: ${key}: ${detail}`);
  }
}

export class UsageError extends AnycastDnsError {
  constructor(message: string) {
    super('USAGE', message);
  }
}
