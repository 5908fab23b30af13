export async function runHealth(_argv: string[]): Promise<number> {
  throw new Error('runHealth: not implemented yet');
}
