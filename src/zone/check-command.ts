export async function runCheck(_argv: string[]): Promise<number> {
  throw new Error('runCheck: not implemented yet');
}
