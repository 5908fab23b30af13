// The message that ends an idle loader thread, apart from the loader's and the thread's modules so
// each can import it: the thread's pulls in the zone parser, which the loader must not wait for.

/** Posted to an idle loader thread: it frees its heap and exits (load-thread.ts). */
export const RETIRE = 'retire';
