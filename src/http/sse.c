/* sse: the Server-Sent Events writer. A streaming response is a
 * libmicrohttpd content reader that pulls events from a core subscription
 * and hands out their frames, holding back the rest of a frame when
 * libmicrohttpd asks for fewer bytes than it has. The reader runs on the
 * connection's own thread (thread-per-connection), so it may block; it must
 * never return 0 (that would spin), so while no event comes it waits in
 * ticks, checking on each one whether the client went away (then the
 * response ends and its free callback closes the subscription, which cancels
 * a non-background streaming run) and sending a comment keep-alive after a
 * long silence — a comment, because the SDK aborts on an `event:` line
 * without `data:`. Its waits are not the client's idle time: each frame it
 * hands out restarts the connection's inactivity clock (limits.c), so only a
 * client that stops reading is timed out. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/http_int.h"
#include "lib/log.h"

struct ia_http_sse {
    ia_sub *sub;
    ia_dialect dialect;
    int fd; /* the client's socket, to notice a hang-up; -1 if unknown */
    struct MHD_Connection *conn;
    unsigned timeout_s; /* the connection's inactivity timeout */
    const atomic_bool *stopping;
    ia_http_sse_sink *sink;
    ia_interaction base; /* id only: the snapshot for events that carry none */
    char *frame;         /* the frame being written, and how far */
    size_t len, off;
    bool frame_owned; /* false for static frames (ping, done) */
    bool ended;       /* [DONE] queued: end of stream once it is out */
    int64_t last_write_ms;
};

static void set_frame(ia_http_sse *s, char *f, bool owned) {
    if (s->frame_owned) free(s->frame);
    s->frame = f;
    s->len = f ? strlen(f) : 0;
    s->off = 0;
    s->frame_owned = owned;
}

bool ia_http_peer_gone(int fd) {
    if (fd < 0) return false;
    struct pollfd p = {.fd = fd, .events = POLLRDHUP};
    if (poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
}

/* Encodes one event into the pending frame. */
static void take_event(ia_http_sse *s, ia_event *ev, ia_interaction *snap) {
    bool has_snap = ev->kind == IA_EV_START || ev->kind == IA_EV_COMPLETE;
    if (ev->kind == IA_EV_COMPLETE && snap->has_usage && s->sink)
        s->sink->tokens = snap->usage.input + snap->usage.output + snap->usage.thought;
    char *f = ia_api_encode_event(has_snap ? snap : &s->base, ev, s->dialect);
    if (!f) ia_warn("sse: could not encode event %lld of %s", (long long)ev->seq, s->base.id);
    else set_frame(s, f, true);
    ia_event_free(ev);
    ia_interaction_free(snap);
}

static ssize_t reader(void *cls, uint64_t pos, char *buf, size_t max) {
    (void)pos;
    ia_http_sse *s = cls;
    for (;;) {
        if (s->off < s->len) {
            size_t n = s->len - s->off < max ? s->len - s->off : max;
            memcpy(buf, s->frame + s->off, n);
            s->off += n;
            s->last_write_ms = ia_mono_ms();
            /* The wait for this frame was ours, not the client's idle: its
             * inactivity clock starts now, for the write. */
            ia_http_conn_touch(s->conn, s->timeout_s);
            return (ssize_t)n;
        }
        if (s->ended) return MHD_CONTENT_READER_END_OF_STREAM;
        if (s->stopping && atomic_load(s->stopping)) return MHD_CONTENT_READER_END_WITH_ERROR;
        ia_event ev = {0};
        ia_interaction snap = {0};
        int r = ia_sub_next(s->sub, IA_HTTP_TICK_MS, &ev, &snap);
        if (r > 0) {
            take_event(s, &ev, &snap);
            /* Between events that follow fast, a hang-up would only show
             * on the next failed write: look now, it is one syscall. */
            if (ia_http_peer_gone(s->fd)) return MHD_CONTENT_READER_END_WITH_ERROR;
            continue;
        }
        if (r < 0) {
            set_frame(s, (char *)ia_api_sse_done(), false);
            s->ended = true;
            continue;
        }
        if (ia_http_peer_gone(s->fd)) return MHD_CONTENT_READER_END_WITH_ERROR;
        if (ia_mono_ms() - s->last_write_ms >= IA_HTTP_PING_MS)
            set_frame(s, (char *)": ping\n\n", false);
    }
}

static void release(void *cls) {
    ia_http_sse *s = cls;
    /* Closing cancels a non-background streaming run that is still going:
     * this is how a client disconnect stops its generation. */
    ia_sub_close(s->sub);
    set_frame(s, NULL, false);
    if (s->sink) s->sink->stream = NULL;
    ia_interaction_free(&s->base);
    free(s);
}

struct MHD_Response *ia_http_sse_response(ia_sub *sub, ia_dialect d, struct MHD_Connection *conn,
                                          unsigned timeout_s, const atomic_bool *stopping,
                                          ia_http_sse_sink *sink) {
    ia_http_sse *s = ia_xcalloc(1, sizeof *s);
    s->conn = conn;
    s->timeout_s = timeout_s;
    s->sub = sub;
    s->dialect = d;
    s->stopping = stopping;
    s->sink = sink;
    s->fd = -1;
    s->last_write_ms = ia_mono_ms();
    const char *id = ia_sub_id(sub);
    if (id) snprintf(s->base.id, sizeof s->base.id, "%s", id);
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    if (ci) s->fd = ci->connect_fd;
    /* 4 KiB blocks: frames are small, and a delta should leave at once. */
    struct MHD_Response *r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, release);
    if (!r) {
        release(s);
        return NULL;
    }
    if (sink) sink->stream = s;
    return r;
}

void ia_http_sse_unlink(ia_http_sse_sink *sink) {
    if (sink && sink->stream) {
        sink->stream->sink = NULL;
        sink->stream = NULL;
    }
}
