// How a listen address is written in logs and errors. Its own module, apart from the config reader:
// the query threads (workers: N) print addresses but parse no config, and a module a thread imports
// is loaded into each thread's own heap (the YAML and zone-file parsers the config reader brings).

export function formatListenAddress(a: { host: string; port: number; family: 4 | 6 }): string {
  return a.family === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}
