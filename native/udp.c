// Batched UDP for the DNS listener: recvmmsg/sendmmsg on a socket libuv polls, with the datagrams,
// their lengths and addresses in memory shared with JavaScript. It only moves bytes: one call into
// JavaScript per batch received, one sendmmsg for the answers JavaScript wrote. Nothing here parses
// DNS, and nothing a packet or a failed send does stops the socket.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#ifndef NAPI_VERSION
#define NAPI_VERSION 8
#endif
#include <node_api.h>
#include <uv.h>

// Datagrams per recvmmsg, and the octets each may have. A DNS query is far smaller than a slot; an
// answer is at most edns_udp_size (4096 at most), so one slot size serves both directions.
#define BATCH 64
#define SLOT 4096
// The receive memory holds a batch's first HEAD octets of every datagram side by side, and the rest
// of each slot apart: a query seldom has more, so a batch touches a few pages, not one per datagram
// (the kernel makes a page resident on first write, and it stays so for the life of the thread).
// The answers are written one after the other likewise, each where META_TX_AT says.
#define HEAD 512
// The version of the shared memory's layout: JavaScript refuses a build of another (native-udp.ts).
#define LAYOUT 2
// recvmmsg rounds per readable event: then libuv runs the rest of the loop (timers, TCP, other
// sockets) before this socket is read again, so a flood on one socket cannot starve the others.
#define ROUNDS 16
#define CONTROL_BYTES 64

// Counters shared with JavaScript as a Float64Array (exact up to 2^53).
enum { STAT_TRUNCATED, STAT_SEND_DROPPED, STAT_SEND_ERRORS, STAT_COUNT };

// The shared metadata, in 32-bit words of one ArrayBuffer: each array has BATCH entries.
enum { META_RX_LEN = 0, META_TX_LEN = BATCH, META_PORT = 2 * BATCH, META_IFINDEX = 3 * BATCH, META_PEER = 4 * BATCH,
       META_LOCAL = 8 * BATCH, META_TX_AT = 12 * BATCH, META_WORDS = 13 * BATCH };

typedef struct {
  napi_env env;
  int fd;
  int family;
  uv_poll_t poll;
  int in_batch;  // JavaScript is handling a batch: a close then waits for it to return
  int closing;   // close() was called
  int closed;    // the uv handle is closed: nothing of libuv points here any more
  int finalized; // the JavaScript handle is gone
  int env_gone;  // the thread that opened it is ending: nothing may call into its JavaScript any more
  napi_ref callback, on_close, rx_ref, tx_ref, meta_ref, stats_ref;
  napi_async_context async;
  uint8_t *rx, *tx;
  uint32_t *meta;
  double *stats;
  struct mmsghdr rmsg[BATCH], smsg[BATCH];
  struct iovec riov[BATCH][2], siov[BATCH];
  struct sockaddr_storage peer[BATCH];
  uint64_t rctl[BATCH][CONTROL_BYTES / 8], sctl[BATCH][CONTROL_BYTES / 8];
} udp_socket;

static napi_value throw_errno(napi_env env, const char *what, int err) {
  char msg[256];
  snprintf(msg, sizeof msg, "%s: %s", what, strerror(err));
  napi_throw_error(env, uv_err_name(uv_translate_sys_error(err)), msg);
  return NULL;
}

static void release(udp_socket *s) {
  if (s->on_close != NULL) napi_delete_reference(s->env, s->on_close);
  napi_delete_reference(s->env, s->callback);
  napi_delete_reference(s->env, s->rx_ref);
  napi_delete_reference(s->env, s->tx_ref);
  napi_delete_reference(s->env, s->meta_ref);
  napi_delete_reference(s->env, s->stats_ref);
  napi_async_destroy(s->env, s->async);
}

static void on_env_cleanup(void *arg);

static void on_closed(uv_handle_t *h) {
  udp_socket *s = h->data;
  if (s->fd >= 0) close(s->fd);
  s->fd = -1;
  s->closed = 1;
  if (s->env_gone) {
    // Its references went with the environment.
    if (s->finalized) free(s);
    return;
  }
  napi_remove_env_cleanup_hook(s->env, on_env_cleanup, s);
  if (s->on_close != NULL) {
    napi_handle_scope scope;
    napi_open_handle_scope(s->env, &scope);
    napi_value cb, recv, result;
    napi_get_reference_value(s->env, s->on_close, &cb);
    napi_get_global(s->env, &recv);
    napi_make_callback(s->env, s->async, recv, cb, 0, NULL, &result);
    napi_close_handle_scope(s->env, scope);
  }
  release(s);
  if (s->finalized) free(s);
}

static void start_close(udp_socket *s) {
  if (uv_is_closing((uv_handle_t *)&s->poll)) return;
  uv_poll_stop(&s->poll);
  uv_close((uv_handle_t *)&s->poll, on_closed);
}

// The environment that opened the socket is ending (a worker thread that threw, or was terminated):
// the socket leaves the port now, so the kernel stops giving it datagrams no one will read, and
// nothing calls into JavaScript afterwards.
static void on_env_cleanup(void *arg) {
  udp_socket *s = arg;
  s->env_gone = 1;
  if (s->closed) return;
  uv_poll_stop(&s->poll);
  close(s->fd);
  s->fd = -1;
  if (!uv_is_closing((uv_handle_t *)&s->poll)) uv_close((uv_handle_t *)&s->poll, on_closed);
  s->closing = 1;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  udp_socket *s = data;
  s->finalized = 1;
  if (s->closed) free(s);
  else if (!s->closing) {
    s->closing = 1;
    start_close(s);
  }
}

// The destination address of a datagram (IP_PKTINFO / IPV6_PKTINFO): the answer's source, so it
// leaves from the address it was asked on even when the socket is bound to the wildcard.
static void read_local(udp_socket *s, int i) {
  uint8_t *local = (uint8_t *)(s->meta + META_LOCAL) + 16 * i;
  memset(local, 0, 16);
  s->meta[META_IFINDEX + i] = 0;
  struct msghdr *h = &s->rmsg[i].msg_hdr;
  for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
    if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
      struct in_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      memcpy(local, &pi.ipi_addr, 4);
      s->meta[META_IFINDEX + i] = (uint32_t)pi.ipi_ifindex;
    } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
      struct in6_pktinfo pi;
      memcpy(&pi, CMSG_DATA(c), sizeof pi);
      memcpy(local, &pi.ipi6_addr, 16);
      s->meta[META_IFINDEX + i] = pi.ipi6_ifindex;
    }
  }
}

static void read_peer(udp_socket *s, int i) {
  uint8_t *peer = (uint8_t *)(s->meta + META_PEER) + 16 * i;
  if (s->family == AF_INET) {
    struct sockaddr_in *a = (struct sockaddr_in *)&s->peer[i];
    memcpy(peer, &a->sin_addr, 4);
    s->meta[META_PORT + i] = ntohs(a->sin_port);
  } else {
    struct sockaddr_in6 *a = (struct sockaddr_in6 *)&s->peer[i];
    memcpy(peer, &a->sin6_addr, 16);
    s->meta[META_PORT + i] = ntohs(a->sin6_port);
  }
}

// Sets the source address of answer j to the address datagram i came to; no control message when
// the kernel gave none (a socket bound to one address needs none).
static void write_source(udp_socket *s, int i, int j) {
  struct msghdr *h = &s->smsg[j].msg_hdr;
  h->msg_control = NULL;
  h->msg_controllen = 0;
  const uint8_t *local = (const uint8_t *)(s->meta + META_LOCAL) + 16 * i;
  static const uint8_t zero[16];
  if (memcmp(local, zero, s->family == AF_INET ? 4 : 16) == 0) return;
  h->msg_control = s->sctl[j];
  struct cmsghdr *c = (struct cmsghdr *)s->sctl[j];
  if (s->family == AF_INET) {
    h->msg_controllen = CMSG_SPACE(sizeof(struct in_pktinfo));
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in_pktinfo));
    struct in_pktinfo pi;
    memset(&pi, 0, sizeof pi);
    // ipi_spec_dst picks the source address; no interface, so the route decides where it goes.
    memcpy(&pi.ipi_spec_dst, local, 4);
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
  } else {
    h->msg_controllen = CMSG_SPACE(sizeof(struct in6_pktinfo));
    c->cmsg_level = IPPROTO_IPV6;
    c->cmsg_type = IPV6_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(struct in6_pktinfo));
    struct in6_pktinfo pi;
    memset(&pi, 0, sizeof pi);
    memcpy(&pi.ipi6_addr, local, 16);
    // A link-local source is ambiguous without its interface (RFC 4007 §6); others let the route decide.
    if (local[0] == 0xfe && (local[1] & 0xc0) == 0x80) pi.ipi6_ifindex = s->meta[META_IFINDEX + i];
    memcpy(CMSG_DATA(c), &pi, sizeof pi);
  }
}

// One sendmmsg for every answer JavaScript wrote (a non-zero length), resumed after a partial send.
// Never waits: with the send buffer full (EAGAIN) the rest of the batch is dropped and counted, as
// a packet lost on the wire would be; the client retries.
static void send_batch(udp_socket *s, int count) {
  int n = 0;
  for (int i = 0; i < count; i++) {
    uint32_t len = s->meta[META_TX_LEN + i];
    uint32_t at = s->meta[META_TX_AT + i];
    if (len == 0 || len > SLOT || at > (uint32_t)(BATCH * SLOT) - len) continue;
    struct msghdr *h = &s->smsg[n].msg_hdr;
    s->siov[n].iov_base = s->tx + at;
    s->siov[n].iov_len = len;
    h->msg_iov = &s->siov[n];
    h->msg_iovlen = 1;
    h->msg_name = &s->peer[i];
    h->msg_namelen = s->rmsg[i].msg_hdr.msg_namelen;
    h->msg_flags = 0;
    write_source(s, i, n);
    n++;
  }
  int sent = 0;
  int retries = 0;
  while (sent < n) {
    int r = sendmmsg(s->fd, s->smsg + sent, (unsigned)(n - sent), MSG_DONTWAIT);
    if (r > 0) {
      sent += r;
      continue;
    }
    int err = errno;
    if (err == EINTR) continue;
    if (err == EAGAIN || err == EWOULDBLOCK) {
      s->stats[STAT_SEND_DROPPED] += n - sent;
      return;
    }
    // A pending ICMP error reported here was not about this answer: the error is consumed, try again.
    if ((err == ECONNREFUSED || err == EHOSTUNREACH || err == ENETUNREACH) && retries++ < 4) continue;
    // ENOBUFS (a full device queue) loses this answer only; anything else (EPERM from a firewall,
    // EINVAL) is about this answer too. Skip it and send the rest.
    s->stats[err == ENOBUFS ? STAT_SEND_DROPPED : STAT_SEND_ERRORS] += 1;
    sent++;
  }
}

static int receive(udp_socket *s) {
  for (int i = 0; i < BATCH; i++) {
    struct msghdr *h = &s->rmsg[i].msg_hdr;
    s->riov[i][0].iov_base = s->rx + (size_t)i * HEAD;
    s->riov[i][0].iov_len = HEAD;
    s->riov[i][1].iov_base = s->rx + (size_t)BATCH * HEAD + (size_t)i * (SLOT - HEAD);
    s->riov[i][1].iov_len = SLOT - HEAD;
    h->msg_iov = s->riov[i];
    h->msg_iovlen = 2;
    h->msg_name = &s->peer[i];
    h->msg_namelen = sizeof s->peer[i];
    h->msg_control = s->rctl[i];
    h->msg_controllen = CONTROL_BYTES;
    h->msg_flags = 0;
  }
  for (int tries = 0; tries < 8; tries++) {
    int r = recvmmsg(s->fd, s->rmsg, BATCH, MSG_DONTWAIT, NULL);
    if (r >= 0) return r;
    // ICMP errors queued on the socket (port unreachable from a client that went away) are
    // consumed by the failing call; they say nothing about the datagrams still waiting.
    if (errno != EINTR && errno != ECONNREFUSED && errno != EHOSTUNREACH && errno != ENETUNREACH) return -1;
  }
  return -1;
}

// Calls JavaScript with the batch's count; it writes each answer's length into META_TX_LEN.
static void deliver(udp_socket *s, int count) {
  napi_env env = s->env;
  napi_handle_scope scope;
  napi_open_handle_scope(env, &scope);
  napi_value cb, recv, arg, result;
  napi_get_reference_value(env, s->callback, &cb);
  napi_get_global(env, &recv);
  napi_create_int32(env, count, &arg);
  if (napi_make_callback(env, s->async, recv, cb, 1, &arg, &result) != napi_ok) {
    bool pending = false;
    napi_is_exception_pending(env, &pending);
    if (pending) {
      napi_value err;
      napi_get_and_clear_last_exception(env, &err);
      napi_fatal_exception(env, err);
    }
  }
  napi_close_handle_scope(env, scope);
}

static void on_readable(uv_poll_t *h, int status, int events) {
  (void)events;
  udp_socket *s = h->data;
  if (status < 0 || s->closing) return;
  s->in_batch = 1;
  for (int round = 0; round < ROUNDS && !s->closing; round++) {
    int n = receive(s);
    if (n <= 0) break;
    for (int i = 0; i < n; i++) {
      uint32_t len = s->rmsg[i].msg_len;
      if ((s->rmsg[i].msg_hdr.msg_flags & MSG_TRUNC) || len > SLOT) {
        s->stats[STAT_TRUNCATED] += 1;
        len = 0;
      }
      s->meta[META_RX_LEN + i] = len;
      s->meta[META_TX_LEN + i] = 0;
      read_peer(s, i);
      read_local(s, i);
    }
    deliver(s, n);
    if (s->closing) break;
    send_batch(s, n);
    if (n < BATCH) break;
  }
  s->in_batch = 0;
  if (s->closing) start_close(s);
}

static int parse_address(const char *host, int port, struct sockaddr_storage *ss, socklen_t *len) {
  memset(ss, 0, sizeof *ss);
  struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
  struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
  if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    *len = sizeof *a4;
    return AF_INET;
  }
  if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    *len = sizeof *a6;
    return AF_INET6;
  }
  return -1;
}

// Zero-filled by the runtime, and not written here: a page of it is resident only once a datagram
// or an answer is written there.
static napi_value buffer_of(napi_env env, size_t bytes, void **data, napi_ref *ref) {
  napi_value ab;
  napi_create_arraybuffer(env, bytes, data, &ab);
  napi_create_reference(env, ab, 1, ref);
  return ab;
}

static int set_int(int fd, int level, int name, int value) { return setsockopt(fd, level, name, &value, sizeof value); }

// open(host, port, reusePort, recvBufferBytes, sendBufferBytes, onBatch) → { handle, rx, tx, meta, stats, port, batch, slot, head }
static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  char host[64];
  size_t host_len;
  int32_t port, recv_bytes, send_bytes;
  bool reuse_port;
  napi_valuetype cb_type;
  if (argc < 6 || napi_get_value_string_utf8(env, argv[0], host, sizeof host, &host_len) != napi_ok ||
      napi_get_value_int32(env, argv[1], &port) != napi_ok || napi_get_value_bool(env, argv[2], &reuse_port) != napi_ok ||
      napi_get_value_int32(env, argv[3], &recv_bytes) != napi_ok || napi_get_value_int32(env, argv[4], &send_bytes) != napi_ok ||
      napi_typeof(env, argv[5], &cb_type) != napi_ok || cb_type != napi_function) {
    napi_throw_type_error(env, NULL, "open(host, port, reusePort, recvBufferBytes, sendBufferBytes, onBatch)");
    return NULL;
  }
  struct sockaddr_storage addr;
  socklen_t addr_len;
  int family = parse_address(host, port, &addr, &addr_len);
  if (family < 0) {
    napi_throw_type_error(env, NULL, "not an IP address");
    return NULL;
  }
  int fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno);
  int ok = 1;
  if (reuse_port) ok = ok && set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1) == 0;
  if (family == AF_INET) {
    ok = ok && set_int(fd, IPPROTO_IP, IP_PKTINFO, 1) == 0;
  } else {
    // An IPv6 socket serves IPv6 only; IPv4 has its own listen address (no v4-mapped surprises).
    ok = ok && set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1) == 0;
    ok = ok && set_int(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1) == 0;
  }
  if (!ok) {
    int err = errno;
    close(fd);
    return throw_errno(env, "setsockopt", err);
  }
  // Absorbs bursts while JavaScript is busy; the kernel caps it at net.core.[rw]mem_max.
  set_int(fd, SOL_SOCKET, SO_RCVBUF, recv_bytes);
  set_int(fd, SOL_SOCKET, SO_SNDBUF, send_bytes);
  if (bind(fd, (struct sockaddr *)&addr, addr_len) != 0) {
    int err = errno;
    close(fd);
    return throw_errno(env, "bind", err);
  }
  struct sockaddr_storage bound;
  socklen_t bound_len = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &bound_len);
  int bound_port = ntohs(family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port : ((struct sockaddr_in6 *)&bound)->sin6_port);

  udp_socket *s = calloc(1, sizeof *s);
  if (s == NULL) {
    close(fd);
    return throw_errno(env, "open", ENOMEM);
  }
  s->env = env;
  s->fd = fd;
  s->family = family;
  uv_loop_t *loop;
  napi_get_uv_event_loop(env, &loop);
  int uerr = uv_poll_init(loop, &s->poll, fd);
  if (uerr != 0) {
    close(fd);
    free(s);
    napi_throw_error(env, uv_err_name(uerr), uv_strerror(uerr));
    return NULL;
  }
  s->poll.data = s;

  napi_value result, v, name;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "rx", buffer_of(env, (size_t)BATCH * SLOT, (void **)&s->rx, &s->rx_ref));
  napi_set_named_property(env, result, "tx", buffer_of(env, (size_t)BATCH * SLOT, (void **)&s->tx, &s->tx_ref));
  napi_set_named_property(env, result, "meta", buffer_of(env, META_WORDS * 4, (void **)&s->meta, &s->meta_ref));
  napi_set_named_property(env, result, "stats", buffer_of(env, STAT_COUNT * 8, (void **)&s->stats, &s->stats_ref));
  napi_create_reference(env, argv[5], 1, &s->callback);
  napi_create_string_utf8(env, "anycast-dns udp", NAPI_AUTO_LENGTH, &name);
  napi_async_init(env, NULL, name, &s->async);
  napi_create_external(env, s, finalize, NULL, &v);
  napi_set_named_property(env, result, "handle", v);
  napi_create_int32(env, bound_port, &v);
  napi_set_named_property(env, result, "port", v);
  napi_create_int32(env, BATCH, &v);
  napi_set_named_property(env, result, "batch", v);
  napi_create_int32(env, SLOT, &v);
  napi_set_named_property(env, result, "slot", v);
  napi_create_int32(env, HEAD, &v);
  napi_set_named_property(env, result, "head", v);
  napi_add_env_cleanup_hook(env, on_env_cleanup, s);
  uv_poll_start(&s->poll, UV_READABLE, on_readable);
  return result;
}

// close(handle, onClosed): stops reading at once (inside a batch, once JavaScript returns, its answers
// unsent); onClosed runs when the socket is closed.
static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  void *data = NULL;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok) {
    napi_throw_type_error(env, NULL, "close(handle)");
    return NULL;
  }
  udp_socket *s = data;
  if (!s->closing) {
    napi_valuetype t;
    if (argc > 1 && napi_typeof(env, argv[1], &t) == napi_ok && t == napi_function) napi_create_reference(env, argv[1], 1, &s->on_close);
    s->closing = 1;
    if (!s->in_batch) start_close(s);
  }
  return NULL;
}

// releaseFreeMemory(): hands the pages malloc holds free back to the system, in every arena; resolves
// with whether any were. glibc returns free memory only from the top of an arena: threads that ended
// (the zone loaders) leave theirs free below chunks still in use, resident until asked for. It runs
// in libuv's thread pool: walking the arenas takes a while, and the thread answering queries must
// not wait for it (it waits only if it allocates from the arena being trimmed at that moment).
typedef struct {
  napi_async_work work;
  napi_deferred deferred;
  int released;
} trim_job;

static void trim_execute(napi_env env, void *data) {
  (void)env;
  trim_job *job = data;
  job->released = 0;
#ifdef __GLIBC__
  job->released = malloc_trim(0);
#endif
}

static void trim_complete(napi_env env, napi_status status, void *data) {
  trim_job *job = data;
  napi_value result;
  napi_get_boolean(env, status == napi_ok && job->released != 0, &result);
  napi_resolve_deferred(env, job->deferred, result);
  napi_delete_async_work(env, job->work);
  free(job);
}

static napi_value js_release_free_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value promise, name;
  trim_job *job = calloc(1, sizeof(trim_job));
  if (job == NULL) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_create_promise(env, &job->deferred, &promise);
  napi_create_string_utf8(env, "anycast-dns:malloc_trim", NAPI_AUTO_LENGTH, &name);
  napi_create_async_work(env, NULL, name, trim_execute, trim_complete, job, &job->work);
  napi_queue_async_work(env, job->work);
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, js_open, NULL, &fn);
  napi_set_named_property(env, exports, "open", fn);
  napi_create_function(env, "close", NAPI_AUTO_LENGTH, js_close, NULL, &fn);
  napi_set_named_property(env, exports, "close", fn);
  napi_create_function(env, "releaseFreeMemory", NAPI_AUTO_LENGTH, js_release_free_memory, NULL, &fn);
  napi_set_named_property(env, exports, "releaseFreeMemory", fn);
  napi_value layout;
  napi_create_int32(env, LAYOUT, &layout);
  napi_set_named_property(env, exports, "layout", layout);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
