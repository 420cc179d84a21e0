/* types: ownership helpers for the dialect-free conversation and interaction
 * structs of types.h — the *_free functions that release members and zero
 * the struct (so a second free is harmless), deep copies, and the status
 * names shared by the store and the wire encoders. */
#include "model/types.h"

#include <string.h>
#include <stdlib.h>

#include "lib/util.h"

bool ia_content_is_media(ia_content_kind k) {
    return k == IA_CONTENT_IMAGE || k == IA_CONTENT_AUDIO || k == IA_CONTENT_VIDEO || k == IA_CONTENT_DOCUMENT;
}

static const char *const BUILTIN[IA_BUILTIN__COUNT] = {NULL, "code_execution", "url_context", "google_search",
                                                        "google_maps", "mcp_server", "file_search"};

const char *ia_builtin_name(ia_builtin b) { return b > IA_BUILTIN_NONE && b < IA_BUILTIN__COUNT ? BUILTIN[b] : NULL; }

static const char *const AGENTS[] = {"deep-research-pro-preview-12-2025", "deep-research-preview-04-2026",
                                     "deep-research-max-preview-04-2026"};

bool ia_agent_name_known(const char *name) {
    for (size_t i = 0; name && i < sizeof AGENTS / sizeof *AGENTS; i++)
        if (strcmp(name, AGENTS[i]) == 0) return true;
    return false;
}

const char *ia_agent_names(void) {
    return "deep-research-pro-preview-12-2025, deep-research-preview-04-2026, deep-research-max-preview-04-2026";
}

void ia_entries_free(ia_entry *v, size_t n) {
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].model);
        free(v[i].previous_id);
        free(v[i].title);
    }
    free(v);
}

int ia_builtin_parse(const char *s) {
    for (int b = 1; s && b < IA_BUILTIN__COUNT; b++)
        if (strcmp(s, BUILTIN[b]) == 0) return b;
    return -1;
}

const char *ia_modality_name(int m) {
    static const char *const n[IA_N_MODALITIES] = {"text", "image", "audio", "video", "document"};
    return m >= 0 && m < IA_N_MODALITIES ? n[m] : "text";
}

void ia_content_parts_free(ia_content *c) {
    for (size_t i = 0; i < c->n_parts; i++) free(c->parts[i].data);
    free(c->parts);
    c->parts = NULL;
    c->n_parts = 0;
}

static char *dup_or_null(const char *s) { return s ? ia_strdup(s) : NULL; }

void ia_content_clear(ia_content *c) {
    free(c->text);
    free(c->id);
    free(c->name);
    free(c->signature);
    free(c->uri);
    free(c->mime_type);
    free(c->resolution);
    free(c->fetched);
    free(c->path);
    free(c->server_name);
    free(c->search_type);
    ia_annotations_free(c->annotations, c->n_annotations);
    ia_content_parts_free(c);
    memset(c, 0, sizeof *c);
}

void ia_turn_free(ia_turn *t) {
    if (!t) return;
    for (size_t i = 0; i < t->n; i++) ia_content_clear(&t->items[i]);
    free(t->items);
    memset(t, 0, sizeof *t);
}

void ia_conv_free(ia_conv *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) ia_turn_free(&c->turns[i]);
    free(c->turns);
    memset(c, 0, sizeof *c);
}

static ia_content *add_item(ia_turn *t, ia_content_kind k) {
    t->items = ia_xrealloc(t->items, (t->n + 1) * sizeof *t->items);
    ia_content *c = &t->items[t->n++];
    memset(c, 0, sizeof *c);
    c->kind = k;
    return c;
}

void ia_turn_add_text(ia_turn *t, const char *text, size_t len) {
    add_item(t, IA_CONTENT_TEXT)->text = ia_strndup(text ? text : "", text ? len : 0);
}

ia_content *ia_turn_add_call(ia_turn *t, const char *id, const char *name, const char *arguments) {
    ia_content *c = add_item(t, IA_CONTENT_FUNCTION_CALL);
    c->id = ia_strdup(id ? id : "");
    c->name = ia_strdup(name ? name : "");
    c->text = ia_strdup(arguments ? arguments : "{}");
    return c;
}

ia_content *ia_turn_add_result(ia_turn *t, const char *call_id, const char *name, const char *result_json,
                               bool is_error) {
    ia_content *c = add_item(t, IA_CONTENT_FUNCTION_RESULT);
    c->id = ia_strdup(call_id ? call_id : "");
    c->name = name ? ia_strdup(name) : NULL;
    c->text = ia_strdup(result_json ? result_json : "\"\"");
    c->is_error = is_error;
    return c;
}

ia_turn *ia_conv_add_turn(ia_conv *c, ia_role role) {
    c->turns = ia_xrealloc(c->turns, (c->n + 1) * sizeof *c->turns);
    ia_turn *t = &c->turns[c->n++];
    memset(t, 0, sizeof *t);
    t->role = role;
    return t;
}

void ia_content_copy(ia_content *dst, const ia_content *c) {
    memset(dst, 0, sizeof *dst);
    dst->kind = c->kind;
    dst->text = dup_or_null(c->text);
    dst->uri = dup_or_null(c->uri);
    dst->mime_type = dup_or_null(c->mime_type);
    dst->resolution = dup_or_null(c->resolution);
    dst->fetched = dup_or_null(c->fetched);
    dst->path = dup_or_null(c->path);
    dst->sample_rate = c->sample_rate;
    dst->channels = c->channels;
    dst->id = dup_or_null(c->id);
    dst->name = dup_or_null(c->name);
    dst->is_error = c->is_error;
    dst->signature = dup_or_null(c->signature);
    dst->hide_summary = c->hide_summary;
    dst->tool = c->tool;
    dst->server_name = dup_or_null(c->server_name);
    dst->search_type = dup_or_null(c->search_type);
    dst->annotations = ia_annotations_copy(c->annotations, c->n_annotations);
    dst->n_annotations = dst->annotations ? c->n_annotations : 0;
}

ia_content *ia_content_dup(const ia_content *src) {
    ia_content *c = ia_xmalloc(sizeof *c);
    ia_content_copy(c, src);
    return c;
}

void ia_turn_copy(ia_turn *dst, const ia_turn *src) {
    memset(dst, 0, sizeof *dst);
    dst->role = src->role;
    for (size_t i = 0; i < src->n; i++) {
        const ia_content *c = &src->items[i];
        ia_content *d = add_item(dst, c->kind);
        ia_content_copy(d, c);
        if (!d->text && !ia_content_is_media(c->kind)) d->text = ia_strdup("");
    }
}

void ia_annotations_free(ia_annotation *a, size_t n) {
    for (size_t i = 0; a && i < n; i++) {
        free(a[i].url);
        free(a[i].title);
        free(a[i].place_id);
    }
    free(a);
}

ia_annotation *ia_annotations_copy(const ia_annotation *a, size_t n) {
    if (!a || !n) return NULL;
    ia_annotation *d = ia_xcalloc(n, sizeof *d);
    for (size_t i = 0; i < n; i++) {
        d[i] = a[i];
        d[i].url = ia_strdup(a[i].url ? a[i].url : "");
        d[i].title = dup_or_null(a[i].title);
        d[i].place_id = dup_or_null(a[i].place_id);
    }
    return d;
}

ia_content *ia_turn_add_tool_call(ia_turn *t, ia_builtin tool, const char *id, const char *name,
                                  const char *arguments_json) {
    ia_content *c = add_item(t, IA_CONTENT_TOOL_CALL);
    c->tool = tool;
    c->id = ia_strdup(id ? id : "");
    c->name = dup_or_null(name);
    c->text = ia_strdup(arguments_json ? arguments_json : "{}");
    return c;
}

ia_content *ia_turn_add_tool_result(ia_turn *t, ia_builtin tool, const char *call_id, const char *name,
                                    const char *result_json, bool is_error) {
    ia_content *c = add_item(t, IA_CONTENT_TOOL_RESULT);
    c->tool = tool;
    c->id = ia_strdup(call_id ? call_id : "");
    c->name = dup_or_null(name);
    c->text = ia_strdup(result_json ? result_json : "null");
    c->is_error = is_error;
    return c;
}

ia_content *ia_turn_add_thought(ia_turn *t, const char *reasoning, const char *signature, bool hide_summary) {
    ia_content *c = add_item(t, IA_CONTENT_THOUGHT);
    c->text = ia_strdup(reasoning ? reasoning : "");
    c->signature = ia_strdup(signature ? signature : "");
    c->hide_summary = hide_summary;
    return c;
}

static const char *const thinking_names[] = {"minimal", "low", "medium", "high"};

const char *ia_thinking_level_name(ia_thinking_level l) {
    return (unsigned)l < 4 ? thinking_names[l] : "high";
}

int ia_thinking_level_parse(const char *s) {
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, thinking_names[i]) == 0) return i;
    return -1;
}

void ia_conv_append_copy(ia_conv *dst, const ia_conv *src) {
    for (size_t i = 0; i < src->n; i++) {
        ia_turn *t = ia_conv_add_turn(dst, src->turns[i].role);
        ia_turn_copy(t, &src->turns[i]);
    }
}

static const char *const status_names[] = {
    [IA_STATUS_IN_PROGRESS] = "in_progress", [IA_STATUS_REQUIRES_ACTION] = "requires_action",
    [IA_STATUS_COMPLETED] = "completed",     [IA_STATUS_FAILED] = "failed",
    [IA_STATUS_CANCELLED] = "cancelled",     [IA_STATUS_INCOMPLETE] = "incomplete",
};

const char *ia_status_name(ia_status s) {
    if ((unsigned)s >= sizeof status_names / sizeof *status_names) return "failed";
    return status_names[s];
}

int ia_status_parse(const char *s) {
    if (!s) return -1;
    for (size_t i = 0; i < sizeof status_names / sizeof *status_names; i++)
        if (strcmp(s, status_names[i]) == 0) return (int)i;
    return -1;
}

bool ia_status_terminal(ia_status s) {
    /* requires_action ends a run: the client must act before anything more
     * happens, so nothing is left running on the server. */
    return s != IA_STATUS_IN_PROGRESS;
}

void ia_speech_cfg_free(ia_speech_cfg *c) {
    if (!c) return;
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].voice);
        free(c->v[i].language);
        free(c->v[i].speaker);
    }
    free(c->v);
    memset(c, 0, sizeof *c);
}

void ia_speech_cfg_copy(ia_speech_cfg *dst, const ia_speech_cfg *src) {
    *dst = *src;
    dst->v = NULL;
    if (!src->n) return;
    dst->v = ia_xcalloc(src->n, sizeof *dst->v);
    for (size_t i = 0; i < src->n; i++) {
        dst->v[i].voice = dup_or_null(src->v[i].voice);
        dst->v[i].language = dup_or_null(src->v[i].language);
        dst->v[i].speaker = dup_or_null(src->v[i].speaker);
    }
}

void ia_gen_config_free(ia_gen_config *g) {
    if (!g) return;
    for (size_t i = 0; i < g->n_stop; i++) free(g->stop[i]);
    free(g->stop);
    ia_speech_cfg_free(&g->speech);
    memset(g, 0, sizeof *g);
}

void ia_gen_config_copy(ia_gen_config *dst, const ia_gen_config *src) {
    *dst = *src;
    dst->stop = NULL;
    dst->n_stop = 0;
    ia_speech_cfg_copy(&dst->speech, &src->speech);
    if (!src->n_stop) return;
    dst->stop = ia_xcalloc(src->n_stop, sizeof *dst->stop);
    for (size_t i = 0; i < src->n_stop; i++) dst->stop[i] = ia_strdup(src->stop[i]);
    dst->n_stop = src->n_stop;
}

bool ia_gen_config_is_set(const ia_gen_config *g) {
    return g->has_temperature || g->has_top_p || g->has_top_k || g->has_seed ||
           g->has_max_output_tokens || g->n_stop > 0 || g->has_thinking_level || g->has_thinking_summaries ||
           g->speech.n > 0 || g->image.set;
}

void ia_rformat_free(ia_rformat *f) {
    if (!f) return;
    free(f->mime_type);
    free(f->schema);
    memset(f, 0, sizeof *f);
}

void ia_rformat_copy(ia_rformat *dst, const ia_rformat *src) {
    dst->shape = src->shape;
    dst->mime_type = src->mime_type ? ia_strdup(src->mime_type) : NULL;
    dst->schema = src->schema ? ia_strdup(src->schema) : NULL;
    dst->image = src->image;
    dst->audio = src->audio;
    memcpy(dst->list, src->list, sizeof dst->list);
    dst->modalities = src->modalities;
}

void ia_tool_clear(ia_tool *t) {
    free(t->name);
    free(t->description);
    free(t->parameters);
    memset(t, 0, sizeof *t);
}

void ia_request_free(ia_request *r) {
    if (!r) return;
    free(r->model);
    free(r->agent);
    ia_conv_free(&r->input);
    free(r->system_instruction);
    ia_gen_config_free(&r->gen);
    free(r->previous_interaction_id);
    free(r->response_format);
    free(r->grammar);
    ia_rformat_free(&r->rformat);
    for (size_t i = 0; i < r->n_tools; i++) ia_tool_clear(&r->tools[i]);
    free(r->tools);
    for (size_t i = 0; i < r->n_builtins; i++) ia_builtin_tool_clear(&r->builtins[i]);
    free(r->builtins);
    memset(r, 0, sizeof *r);
}

static void free_strs(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

void ia_builtin_tool_clear(ia_builtin_tool *b) {
    free(b->field);
    free(b->name);
    free(b->url);
    free_strs(b->headers, b->n_headers);
    free_strs(b->allowed, b->n_allowed);
    free_strs(b->denied, b->n_denied);
    for (size_t i = 0; i < b->n_offers; i++) {
        free(b->offers[i].fn);
        free(b->offers[i].tool);
        free(b->offers[i].description);
        free(b->offers[i].parameters);
    }
    free(b->offers);
    free_strs(b->stores, b->n_stores);
    free(b->filter);
    memset(b, 0, sizeof *b);
}

void ia_interaction_free(ia_interaction *it) {
    if (!it) return;
    free(it->owner);
    free(it->model);
    free(it->previous_id);
    free(it->system_instruction);
    ia_conv_free(&it->input);
    ia_turn_free(&it->output);
    free(it->error);
    ia_gen_config_free(&it->gen);
    ia_rformat_free(&it->rformat);
    memset(it, 0, sizeof *it);
}

void ia_event_free(ia_event *e) {
    if (!e) return;
    free(e->text);
    free(e->code);
    if (e->part) ia_content_clear(e->part);
    free(e->part);
    memset(e, 0, sizeof *e);
}

void ia_events_free(ia_event *evs, size_t n) {
    if (!evs) return;
    for (size_t i = 0; i < n; i++) ia_event_free(&evs[i]);
    free(evs);
}

void ia_event_copy(ia_event *dst, const ia_event *src) {
    *dst = *src;
    dst->text = dup_or_null(src->text);
    dst->code = dup_or_null(src->code);
    dst->part = src->part ? ia_content_dup(src->part) : NULL;
}

bool ia_event_is_annotations(const ia_event *ev) {
    return ev->kind == IA_EV_CONTENT_DELTA && ev->part && ev->part->kind == IA_CONTENT_TEXT &&
           ev->part->n_annotations > 0;
}

void ia_interaction_copy(ia_interaction *dst, const ia_interaction *src) {
    *dst = *src; /* scalars and the fixed id; pointers replaced below */
    dst->owner = ia_strdup(src->owner);
    dst->model = ia_strdup(src->model);
    dst->previous_id = ia_strdup(src->previous_id);
    dst->system_instruction = ia_strdup(src->system_instruction);
    dst->error = ia_strdup(src->error);
    memset(&dst->input, 0, sizeof dst->input);
    ia_conv_append_copy(&dst->input, &src->input);
    ia_turn_copy(&dst->output, &src->output);
    ia_gen_config_copy(&dst->gen, &src->gen);
    ia_rformat_copy(&dst->rformat, &src->rformat);
}

void ia_file_free(ia_file *f) {
    if (!f) return;
    free(f->owner);
    free(f->display_name);
    free(f->mime_type);
    free(f->error);
    memset(f, 0, sizeof *f);
}

static const char *const file_state_names[] = {
    [IA_FILE_UPLOADING] = "uploading",
    [IA_FILE_PROCESSING] = "processing",
    [IA_FILE_ACTIVE] = "active",
    [IA_FILE_FAILED] = "failed",
};

const char *ia_file_state_name(ia_file_state s) {
    return (unsigned)s < sizeof file_state_names / sizeof *file_state_names ? file_state_names[s] : NULL;
}

int ia_file_state_parse(const char *s) {
    for (unsigned i = 0; s && i < sizeof file_state_names / sizeof *file_state_names; i++)
        if (!strcmp(file_state_names[i], s)) return (int)i;
    return -1;
}
