export async function runServe(_argv: string[]): Promise<number> {
  throw new Error('runServe: not implemented yet');
}
