// Errors the program reports to people, each with a stable code. DNS outcomes (rcodes) are values,
// never exceptions; these are for bad input that stops a load or a start-up.

export type ErrorCode = 'ZONE_SYNTAX' | 'ZONE_CHECK' | 'CONFIG' | 'USAGE';

export class AnycastDnsError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AnycastDnsError';
  }
}

/** A problem in a zone file, reported as `file:line: message` like named-checkzone and kzonecheck. */
export class ZoneFileError extends AnycastDnsError {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
    code: 'ZONE_SYNTAX' | 'ZONE_CHECK' = 'ZONE_SYNTAX',
  ) {
    super(code, `${file}:${line}: ${detail}`);
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
