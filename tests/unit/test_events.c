/* test_events: content events' typed parts (model/types.h) — the store
 * codec's neutral JSON of every part shape (exactly what earlier builds
 * wrote into the events table, and back), rows written by an earlier build
 * read back as parts, the fold of an event log into output items
 * (ia_events_fold), and crash recovery keeping the outputs a run's stored
 * log describes. */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "lib/util.h"
#include "store/store.h"
#include "unit.h"

/* ---- a run's event log ---------------------------------------------------- */

typedef struct evlog {
    ia_event evs[40];
    size_t n;
} evlog;

static ia_content *part(ia_content_kind k) {
    ia_content *p = ia_xcalloc(1, sizeof *p);
    p->kind = k;
    return p;
}

static ia_event *add(evlog *l, ia_event_kind k, int index, const char *text, ia_content *p) {
    ia_event *e = &l->evs[l->n++];
    memset(e, 0, sizeof *e);
    e->seq = (int64_t)l->n;
    e->kind = k;
    e->index = index;
    e->ckind = p ? p->kind : IA_CONTENT_TEXT;
    e->text = text ? ia_strdup(text) : NULL;
    e->part = p;
    return e;
}

static ia_content *thought(const char *summary, const char *sig) {
    ia_content *p = part(IA_CONTENT_THOUGHT);
    p->text = summary ? ia_strdup(summary) : NULL;
    p->signature = sig ? ia_strdup(sig) : NULL;
    return p;
}

static ia_content *call(const char *args) {
    ia_content *p = part(IA_CONTENT_FUNCTION_CALL);
    p->id = ia_strdup("call_1");
    p->name = ia_strdup("get_weather");
    p->text = args ? ia_strdup(args) : NULL;
    return p;
}

static ia_content *cites(void) {
    ia_content *p = part(IA_CONTENT_TEXT);
    p->annotations = ia_xcalloc(1, sizeof *p->annotations);
    p->annotations[0] = (ia_annotation){ia_strdup("https://b.example/rose"), ia_strdup("Roses"), 0, 15, NULL, false};
    p->n_annotations = 1;
    return p;
}

static ia_content *tool(ia_content_kind k, const char *text) {
    ia_content *p = part(k);
    p->tool = IA_BUILTIN_CODE_EXECUTION;
    p->id = ia_strdup("c1");
    p->text = ia_strdup(text);
    return p;
}

/* thought, cited text, client call, code_execution call and result, and a
 * text the crash cut short (no stop) */
static void sample_log(evlog *l) {
    l->n = 0;
    add(l, IA_EV_START, 0, NULL, NULL);
    add(l, IA_EV_STATUS, 0, NULL, NULL);
    add(l, IA_EV_CONTENT_START, 0, NULL, thought(NULL, NULL));
    add(l, IA_EV_CONTENT_DELTA, 0, NULL, thought("Let me ", NULL));
    add(l, IA_EV_CONTENT_DELTA, 0, NULL, thought("think.", NULL));
    add(l, IA_EV_CONTENT_DELTA, 0, NULL, thought(NULL, "v1.sig"));
    add(l, IA_EV_CONTENT_STOP, 0, NULL, NULL);
    add(l, IA_EV_CONTENT_START, 1, "", NULL);
    add(l, IA_EV_CONTENT_DELTA, 1, "Roses ", NULL);
    add(l, IA_EV_CONTENT_DELTA, 1, "need sun.", NULL);
    add(l, IA_EV_CONTENT_DELTA, 1, NULL, cites());
    add(l, IA_EV_CONTENT_STOP, 1, NULL, NULL);
    add(l, IA_EV_CONTENT_START, 2, NULL, call(NULL));
    add(l, IA_EV_CONTENT_DELTA, 2, NULL, call("{\"city\":\"Paris\"}"));
    add(l, IA_EV_CONTENT_STOP, 2, NULL, NULL);
    add(l, IA_EV_CONTENT_START, 3, NULL, tool(IA_CONTENT_TOOL_CALL, "{\"code\":\"print(1)\"}"));
    add(l, IA_EV_CONTENT_DELTA, 3, NULL, tool(IA_CONTENT_TOOL_CALL, "{\"code\":\"print(1)\"}"));
    add(l, IA_EV_CONTENT_STOP, 3, NULL, NULL);
    add(l, IA_EV_CONTENT_START, 4, NULL, tool(IA_CONTENT_TOOL_RESULT, "\"1\\n\""));
    add(l, IA_EV_CONTENT_DELTA, 4, NULL, tool(IA_CONTENT_TOOL_RESULT, "\"1\\n\""));
    add(l, IA_EV_CONTENT_STOP, 4, NULL, NULL);
    add(l, IA_EV_CONTENT_START, 5, "", NULL);
    add(l, IA_EV_CONTENT_DELTA, 5, "The answer", NULL);
}

static void log_free(evlog *l) {
    for (size_t i = 0; i < l->n; i++) ia_event_free(&l->evs[i]);
    l->n = 0;
}

/* The outputs sample_log describes, as the legacy wire shows them. */
#define SAMPLE_OUTPUTS                                                                                         \
    "\"outputs\":[{\"type\":\"thought\",\"signature\":\"v1.sig\",\"summary\":[{\"type\":\"text\",\"text\":"    \
    "\"Let me think.\"}]},{\"type\":\"text\",\"text\":\"Roses need sun.\",\"annotations\":[{\"type\":"       \
    "\"url_citation\",\"url\":\"https://b.example/rose\",\"title\":\"Roses\",\"start_index\":0,"               \
    "\"end_index\":15}]},{\"type\":\"function_call\",\"id\":\"call_1\",\"name\":\"get_weather\","            \
    "\"arguments\":{\"city\":\"Paris\"}},{\"type\":\"code_execution_call\",\"id\":\"c1\",\"arguments\":"      \
    "{\"code\":\"print(1)\"}},{\"type\":\"code_execution_result\",\"call_id\":\"c1\",\"result\":\"1\\n\"},"   \
    "{\"type\":\"text\",\"text\":\"The answer\"}]"

/* ---- the codec ----------------------------------------------------------------- */

/* The text column earlier builds wrote for each event of sample_log (NULL:
 * the event's own text is stored), and the code column. */
static const char *const OLD_TEXT[] = {
    NULL, NULL, "{}", "{\"summary\":\"Let me \"}", "{\"summary\":\"think.\"}", "{\"signature\":\"v1.sig\"}", NULL,
    "", "Roses ", "need sun.",
    "[{\"url\":\"https://b.example/rose\",\"start\":0,\"end\":15,\"title\":\"Roses\"}]", NULL,
    "{\"id\":\"call_1\",\"name\":\"get_weather\"}",
    "{\"id\":\"call_1\",\"name\":\"get_weather\",\"arguments\":\"{\\\"city\\\":\\\"Paris\\\"}\"}", NULL,
    "{\"tool\":\"code_execution\",\"id\":\"c1\",\"arguments\":{\"code\":\"print(1)\"}}",
    "{\"tool\":\"code_execution\",\"id\":\"c1\",\"arguments\":{\"code\":\"print(1)\"}}", NULL,
    "{\"tool\":\"code_execution\",\"call_id\":\"c1\",\"result\":\"1\\n\",\"is_error\":false}",
    "{\"tool\":\"code_execution\",\"call_id\":\"c1\",\"result\":\"1\\n\",\"is_error\":false}", NULL,
    "", "The answer",
};
#define ANNOTATIONS_AT 10

/* Two parts the same, field by field (exact: NULL stays NULL). */
static int same_part(const ia_content *a, const ia_content *b) {
#define SAME(f) ((!a->f && !b->f) || (a->f && b->f && strcmp(a->f, b->f) == 0))
    if (!a || !b) return a == b;
    int ok = a->kind == b->kind && a->tool == b->tool && a->is_error == b->is_error && SAME(text) && SAME(id) &&
             SAME(name) && SAME(signature) && SAME(server_name) && SAME(search_type) &&
             a->n_annotations == b->n_annotations;
    for (size_t i = 0; ok && i < a->n_annotations; i++)
        ok = a->annotations[i].start == b->annotations[i].start && a->annotations[i].end == b->annotations[i].end &&
             strcmp(a->annotations[i].url, b->annotations[i].url) == 0 &&
             strcmp(a->annotations[i].title, b->annotations[i].title) == 0;
    return ok;
#undef SAME
}

IA_TEST(events_codec_writes_the_old_neutral_json) {
    evlog l;
    sample_log(&l);
    _Static_assert(sizeof OLD_TEXT / sizeof *OLD_TEXT == 23, "one per event of sample_log");
    int ok = l.n == 23;
    for (size_t i = 0; ok && i < l.n; i++) {
        const ia_event *e = &l.evs[i];
        char *js = ia_codec_event_encode(e);
        const char *stored = js ? js : e->text;
        const char *code = ia_codec_event_code(e);
        ok = ((!stored && !OLD_TEXT[i]) || (stored && OLD_TEXT[i] && strcmp(stored, OLD_TEXT[i]) == 0)) &&
             (i == ANNOTATIONS_AT ? code && strcmp(code, "annotations") == 0 : !code);
        if (!ok) fprintf(stderr, "    event %zu: %s\n", i, stored ? stored : "(null)");
        /* and back: the part it was (a call's start has no arguments) */
        ia_event back = {.kind = e->kind, .ckind = e->ckind};
        ia_codec_event_decode(&back, stored, code);
        if (ok) ok = same_part(back.part, e->part) && (e->part || (!back.text == !e->text));
        if (!ok) fprintf(stderr, "    event %zu does not read back\n", i);
        ia_event_free(&back);
        free(js);
    }
    log_free(&l);
    IA_CHECK(ok);
}

IA_TEST(events_codec_every_tool_shape) {
    /* google_search's call with its search_type; an mcp result named, with
     * an error; what the model read never in an event */
    ia_content c = {.kind = IA_CONTENT_TOOL_CALL, .tool = IA_BUILTIN_GOOGLE_SEARCH, .id = "g1",
                    .search_type = "web_search", .text = "{\"queries\":[\"q\"]}"};
    ia_content r = {.kind = IA_CONTENT_TOOL_RESULT, .tool = IA_BUILTIN_MCP_SERVER, .id = "s1", .name = "now",
                    .server_name = "clock", .text = "{\"t\":1}", .is_error = true};
    ia_content bad = {.kind = IA_CONTENT_TOOL_RESULT, .tool = IA_BUILTIN_URL_CONTEXT, .id = "u1", .text = "not json"};
    ia_event ec = {.kind = IA_EV_CONTENT_START, .ckind = c.kind, .part = &c};
    ia_event er = {.kind = IA_EV_CONTENT_DELTA, .ckind = r.kind, .part = &r};
    ia_event eb = {.kind = IA_EV_CONTENT_DELTA, .ckind = bad.kind, .part = &bad};
    char *jc = ia_codec_event_encode(&ec), *jr = ia_codec_event_encode(&er), *jb = ia_codec_event_encode(&eb);
    int enc_ok = jc && jr && jb &&
                 !strcmp(jc, "{\"tool\":\"google_search\",\"id\":\"g1\",\"search_type\":\"web_search\","
                             "\"arguments\":{\"queries\":[\"q\"]}}") &&
                 !strcmp(jr, "{\"tool\":\"mcp_server\",\"call_id\":\"s1\",\"name\":\"now\",\"server_name\":"
                             "\"clock\",\"result\":{\"t\":1},\"is_error\":true}") &&
                 !strcmp(jb, "{\"tool\":\"url_context\",\"call_id\":\"u1\",\"result\":null,\"is_error\":false}");
    ia_event bc = {.kind = ec.kind, .ckind = ec.ckind}, br = {.kind = er.kind, .ckind = er.ckind};
    ia_codec_event_decode(&bc, jc, NULL);
    ia_codec_event_decode(&br, jr, NULL);
    int dec_ok = same_part(bc.part, &c) && same_part(br.part, &r);
    /* a damaged text still gives a part that frames */
    ia_event dmg = {.kind = IA_EV_CONTENT_DELTA, .ckind = IA_CONTENT_FUNCTION_CALL};
    ia_codec_event_decode(&dmg, "[1,", NULL);
    int dmg_ok = dmg.part && !strcmp(dmg.part->id, "") && !strcmp(dmg.part->text, "{}");
    /* a text delta and an error keep their text and code, with no part */
    ia_event err = {.kind = IA_EV_ERROR, .ckind = IA_CONTENT_TEXT};
    ia_codec_event_decode(&err, "boom", "internal");
    int err_ok = !err.part && !strcmp(err.text, "boom") && !strcmp(err.code, "internal");
    free(jc);
    free(jr);
    free(jb);
    ia_event_free(&bc);
    ia_event_free(&br);
    ia_event_free(&dmg);
    ia_event_free(&err);
    IA_CHECK(enc_ok);
    IA_CHECK(dec_ok);
    IA_CHECK(dmg_ok);
    IA_CHECK(err_ok);
}

/* ---- the fold ------------------------------------------------------------------- */

IA_TEST(events_fold_to_outputs) {
    evlog l;
    sample_log(&l);
    ia_turn out = {0};
    ia_events_fold(l.evs, l.n, &out);
    ia_interaction it = {.status = IA_STATUS_FAILED, .output = out};
    snprintf(it.id, sizeof it.id, "v1_fold");
    char *js = ia_api_encode_interaction(&it, false, IA_DIALECT_LEGACY);
    int ok = out.role == IA_ROLE_MODEL && out.n == 6 && out.items[0].kind == IA_CONTENT_THOUGHT &&
             !strcmp(out.items[0].text, "Let me think.") && !out.items[0].hide_summary &&
             out.items[1].n_annotations == 1 && out.items[4].kind == IA_CONTENT_TOOL_RESULT &&
             out.items[4].tool == IA_BUILTIN_CODE_EXECUTION && !strcmp(out.items[5].text, "The answer");
    ia_turn_free(&out);
    /* a thought whose summary the client turned off: its signature only,
     * shown without a summary; an unfinished thought or call is dropped */
    evlog h = {0};
    add(&h, IA_EV_CONTENT_START, 0, NULL, thought(NULL, NULL));
    add(&h, IA_EV_CONTENT_DELTA, 0, NULL, thought(NULL, "v1.s"));
    add(&h, IA_EV_CONTENT_STOP, 0, NULL, NULL);
    add(&h, IA_EV_CONTENT_START, 1, NULL, call(NULL));
    ia_turn hid = {0};
    ia_events_fold(h.evs, h.n, &hid);
    int hid_ok = hid.n == 1 && hid.items[0].hide_summary && !strcmp(hid.items[0].text, "") &&
                 !strcmp(hid.items[0].signature, "v1.s");
    ia_turn_free(&hid);
    log_free(&h);
    log_free(&l);
    IA_CHECK(ok);
    IA_CHECK_CONTAINS(js, SAMPLE_OUTPUTS);
    free(js);
    IA_CHECK(hid_ok);
}

/* ---- the store: old rows, and recovery ---------------------------------------- */

static void db_path(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/events-%s.db", ia_test_tmpdir(), name);
    remove(buf);
}

/* An interaction left in_progress by a server that died. */
static int put_running(ia_store *s, const char *id) {
    ia_interaction it = {0};
    snprintf(it.id, sizeof it.id, "%s", id);
    it.owner = ia_strdup("o");
    it.model = ia_strdup("demo");
    it.status = IA_STATUS_IN_PROGRESS;
    it.created = it.updated = 1700000000;
    it.output.role = IA_ROLE_MODEL;
    ia_turn_add_text(ia_conv_add_turn(&it.input, IA_ROLE_USER), "hi", 2);
    ia_err err = {0};
    int rc = ia_store_put(s, &it, &err);
    ia_interaction_free(&it);
    return rc;
}

static const char *const KIND[] = {"start", "status", "content_start", "content_delta", "content_stop"};

/* sample_log's rows as an earlier build wrote them, through SQL. */
static int write_old_rows(const char *path, const char *id) {
    evlog l;
    sample_log(&l);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_open(path, &db) == SQLITE_OK &&
                     sqlite3_prepare_v2(db, "INSERT INTO events (id, seq, kind, idx, status, ckind, text, code) "
                                            "VALUES (?1, ?2, ?3, ?4, 'in_progress', ?5, ?6, ?7)", -1, &st, NULL) == SQLITE_OK
                 ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < l.n; i++) {
        const ia_event *e = &l.evs[i];
        /* earlier builds marked a thought's stop, like every stop, "text" */
        const char *ck = e->kind == IA_EV_CONTENT_STOP ? "text" : ia_codec_content_kind_name(e->ckind);
        sqlite3_reset(st);
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, e->seq);
        sqlite3_bind_text(st, 3, KIND[e->kind], -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 4, e->index);
        sqlite3_bind_text(st, 5, ck, -1, SQLITE_STATIC);
        if (OLD_TEXT[i]) sqlite3_bind_text(st, 6, OLD_TEXT[i], -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 6);
        if (i == ANNOTATIONS_AT) sqlite3_bind_text(st, 7, "annotations", -1, SQLITE_STATIC);
        else sqlite3_bind_null(st, 7);
        if (sqlite3_step(st) != SQLITE_DONE) rc = -1;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    log_free(&l);
    return rc;
}

IA_TEST(events_old_rows_read_back_as_parts) {
    char path[512];
    db_path(path, sizeof path, "old");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    IA_CHECK(put_running(s, "v1_old") == 0);
    IA_CHECK(write_old_rows(path, "v1_old") == 0);
    ia_event *evs = NULL;
    size_t n = 0;
    int rc = ia_store_events(s, "v1_old", 0, &evs, &n, &err);
    evlog want;
    sample_log(&want);
    int ok = rc == 0 && n == want.n;
    for (size_t i = 0; ok && i < n; i++) {
        ok = evs[i].kind == want.evs[i].kind && evs[i].index == want.evs[i].index &&
             same_part(evs[i].part, want.evs[i].part) && !evs[i].code &&
             (want.evs[i].part || ((!evs[i].text && !want.evs[i].text) || !strcmp(evs[i].text, want.evs[i].text)));
        if (!ok) fprintf(stderr, "    event %zu differs\n", i);
    }
    /* the frames of what was read: the same as the live ones */
    for (size_t i = 0; ok && i < n; i++) {
        for (int d = 0; ok && d < 2; d++) {
            char *a = ia_api_encode_frame("v1_old", NULL, &evs[i], d ? IA_DIALECT_STEPS : IA_DIALECT_LEGACY);
            char *b = ia_api_encode_frame("v1_old", NULL, &want.evs[i], d ? IA_DIALECT_STEPS : IA_DIALECT_LEGACY);
            ok = (!a && !b) || (a && b && !strcmp(a, b));
            if (!ok) fprintf(stderr, "    frame %zu: %s    vs %s", i, a ? a : "(null)\n", b ? b : "(null)\n");
            free(a);
            free(b);
        }
    }
    log_free(&want);
    ia_events_free(evs, n);
    ia_store_close(s);
    IA_CHECK(ok);
}

/* What ia_store_append_events writes is the old form, column by column. */
static int stored_texts_are_old(const char *path, const char *id) {
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int ok = sqlite3_open(path, &db) == SQLITE_OK &&
             sqlite3_prepare_v2(db, "SELECT text, code FROM events WHERE id = ?1 AND seq <= 23 ORDER BY seq", -1,
                                &st, NULL) == SQLITE_OK;
    sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    size_t i = 0;
    while (ok && sqlite3_step(st) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(st, 0), *c = (const char *)sqlite3_column_text(st, 1);
        ok = i < 23 && ((!t && !OLD_TEXT[i]) || (t && OLD_TEXT[i] && !strcmp(t, OLD_TEXT[i]))) &&
             (i == ANNOTATIONS_AT ? c && !strcmp(c, "annotations") : !c);
        i++;
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    return ok && i == 23;
}

IA_TEST(events_recovery_keeps_the_outputs) {
    char path[512];
    db_path(path, sizeof path, "recover");
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s);
    IA_CHECK(put_running(s, "v1_run") == 0);
    evlog l;
    sample_log(&l);
    int app = ia_store_append_events(s, "v1_run", l.evs, l.n, &err);
    log_free(&l);
    IA_CHECK(app == 0);
    IA_CHECK(stored_texts_are_old(path, "v1_run"));
    /* and one whose log describes no item keeps the output it had */
    IA_CHECK(put_running(s, "v1_empty") == 0);
    int n = ia_store_recover(s, 1800000000, "the server restarted", &err);
    ia_interaction got = {0}, empty = {0};
    int g = ia_store_get(s, "v1_run", "o", 0, &got, &err);
    int ge = ia_store_get(s, "v1_empty", "o", 0, &empty, &err);
    char *js = g == 0 ? ia_api_encode_interaction(&got, false, IA_DIALECT_LEGACY) : NULL;
    char *steps = g == 0 ? ia_api_encode_interaction(&got, false, IA_DIALECT_STEPS) : NULL;
    ia_event *evs = NULL;
    size_t ne = 0;
    int er = ia_store_events(s, "v1_run", 23, &evs, &ne, &err);
    int ev_ok = er == 0 && ne == 3 && evs[0].seq == 23 + IA_STORE_RECOVER_SEQ_GAP + 1 && evs[0].kind == IA_EV_ERROR;
    ia_events_free(evs, ne);
    int ok = n == 2 && g == 0 && got.status == IA_STATUS_FAILED && got.output.n == 6 && ge == 0 &&
             empty.status == IA_STATUS_FAILED && empty.output.n == 0;
    ia_interaction_free(&got);
    ia_interaction_free(&empty);
    ia_store_close(s);
    IA_CHECK(ok);
    IA_CHECK(ev_ok);
    IA_CHECK_CONTAINS(js, "\"status\":\"failed\"");
    IA_CHECK_CONTAINS(js, SAMPLE_OUTPUTS);
    IA_CHECK_CONTAINS(steps, "{\"type\":\"code_execution_result\",\"call_id\":\"c1\",\"result\":\"1\\n\"}");
    free(js);
    free(steps);
}
