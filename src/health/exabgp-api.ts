// The ExaBGP 4 text API (Debian 12 ships 4.2): the commands the sidecar prints on stdout and the
// acknowledgements ExaBGP writes back on stdin. Everything that depends on the API's syntax is here,
// so another API version only needs another implementation of `ExabgpApi`.
import type { RouteAttributes, RouteConfig } from './config.js';

/** What ExaBGP said about one command, or something else it wrote to us. */
type ApiReply =
  | { kind: 'done' }
  | { kind: 'error'; message: string | null }
  /** ExaBGP is stopping; it terminates its processes next. */
  | { kind: 'shutdown' }
  | { kind: 'other'; line: string };

export interface ExabgpApi {
  announce(route: RouteConfig, attrs: RouteAttributes, localAs: number, extraCommunities: readonly string[]): string;
  withdraw(route: RouteConfig): string;
  parseReply(line: string): ApiReply;
}

export const exabgpTextApi4: ExabgpApi = {
  announce(route, attrs, localAs, extraCommunities) {
    const parts = [`announce route ${route.prefix} next-hop ${route.nextHop}`];
    if (attrs.med !== null) parts.push(`med ${attrs.med}`);
    if (attrs.asPathPrepend > 0) {
      // An AS_PATH given by the API replaces the one ExaBGP would build, so it must hold our own AS
      // once (what an eBGP speaker sends, RFC 4271 §5.1.2) plus the prepended copies.
      parts.push(`as-path [ ${Array<number>(attrs.asPathPrepend + 1).fill(localAs).join(' ')} ]`);
    }
    const communities = [...attrs.communities, ...extraCommunities];
    if (communities.length > 0) parts.push(`community [ ${communities.join(' ')} ]`);
    return parts.join(' ');
  },

  withdraw(route) {
    return `withdraw route ${route.prefix} next-hop ${route.nextHop}`;
  },

  parseReply(line) {
    const text = line.trim();
    if (text === 'done') return { kind: 'done' };
    if (text === 'shutdown') return { kind: 'shutdown' };
    if (text === 'error') return { kind: 'error', message: null };
    if (text.startsWith('error:')) return { kind: 'error', message: text.slice('error:'.length).trim() || null };
    return { kind: 'other', line: text };
  },
};
