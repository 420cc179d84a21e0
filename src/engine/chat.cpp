/* chat.cpp: the project's only C++ — a thin shim that lets C code render a
 * conversation with a model's own Jinja chat template through llama.cpp's
 * common chat library (libllama-common: its Jinja engine, the same code
 * llama-server runs). It converts C messages to common_chat_msg, calls
 * common_chat_templates_init / common_chat_templates_apply, and turns every
 * C++ exception into an error string at the C boundary, so a broken template
 * is a request error and never a crash. Everything here is per-object state;
 * the engine thread owns its ia_chat. */
#include "engine/chat.h"
extern "C" {
#include "schema/schema.h"
}

#include <chat.h>
#include <common.h>
#include <json-schema-to-grammar.h>
#include <llama.h>
#include <log.h>
#include <reasoning-budget.h>
#include <jansson.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <memory>
#include <string>
#include <vector>

struct ia_chat {
    common_chat_templates_ptr tmpls; /* null for the plain fallback */
    /* For a ChatML template with no tool section of its own (the demo
     * model's, many fine-tunes'): the same ChatML with the Hermes / Qwen 2.5
     * tool convention, used for requests with tools. Null otherwise. */
    common_chat_templates_ptr tools_tmpls;
};

/* ChatML plus Qwen 2.5's tool section and <tool_call> syntax, which
 * llama.cpp's chat library recognises (grammar, triggers, parser). */
static const char CHATML_TOOLS[] =
    "{%- if tools %}{{- '<|im_start|>system\n' }}"
    "{%- if messages[0]['role'] == 'system' %}{{- messages[0]['content'] + '\n\n' }}{%- endif %}"
    "{{- '# Tools\n\nYou may call one or more functions to assist with the user query.\n\nYou are provided "
    "with function signatures within <tools></tools> XML tags:\n<tools>' }}"
    "{%- for tool in tools %}{{- '\n' }}{{- tool | tojson }}{%- endfor %}"
    "{{- '\n</tools>\n\nFor each function call, return a json object with function name and arguments within "
    "<tool_call></tool_call> XML tags:\n<tool_call>\n{\"name\": <function-name>, \"arguments\": "
    "<args-json-object>}\n</tool_call><|im_end|>\n' }}"
    "{%- elif messages[0]['role'] == 'system' %}{{- '<|im_start|>system\n' + messages[0]['content'] + "
    "'<|im_end|>\n' }}{%- endif %}"
    "{%- for message in messages %}"
    "{%- if (message.role == 'user') or (message.role == 'system' and not loop.first) or "
    "(message.role == 'assistant' and not message.tool_calls) %}"
    "{{- '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>\n' }}"
    "{%- elif message.role == 'assistant' %}{{- '<|im_start|>' + message.role }}"
    "{%- if message.content %}{{- '\n' + message.content }}{%- endif %}"
    "{%- for tool_call in message.tool_calls %}{%- if tool_call.function is defined %}"
    "{%- set tool_call = tool_call.function %}{%- endif %}"
    "{{- '\n<tool_call>\n{\"name\": \"' }}{{- tool_call.name }}{{- '\", \"arguments\": ' }}"
    "{{- tool_call.arguments | tojson }}{{- '}\n</tool_call>' }}{%- endfor %}{{- '<|im_end|>\n' }}"
    "{%- elif message.role == 'tool' %}"
    "{%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != 'tool') %}{{- '<|im_start|>user' }}{%- endif %}"
    "{{- '\n<tool_response>\n' }}{{- message.content }}{{- '\n</tool_response>' }}"
    "{%- if loop.last or (messages[loop.index0 + 1].role != 'tool') %}{{- '<|im_end|>\n' }}{%- endif %}"
    "{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\n' }}{%- endif %}";

/* One turn's render decisions: how to sample and parse its output. */
struct ia_chat_state {
    common_chat_params params;
    bool parse_tools = false;
    bool required = false;
    int budget = -1;
    std::string answer; /* answer_grammar, when composing */
    std::vector<const char *> stops; /* into params.additional_stops */
};

/* malloc'd copy, so that C callers free() what they get. */
static char *dup_cstr(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p) {
        std::memcpy(p, s.data(), s.size());
        p[s.size()] = '\0';
    }
    return p;
}

static void set_err(char **err, const std::string &msg) {
    if (err) *err = dup_cstr(msg);
}

extern "C" void ia_chat_set_verbose(bool verbose) {
    /* Below LOG_LEVEL_ERROR nothing passes the LOG_* macros' threshold test,
     * so the common log's worker thread is never even started. */
    common_log_set_verbosity_thold(verbose ? LOG_LEVEL_INFO : LOG_LEVEL_OUTPUT);
}

extern "C" ia_chat *ia_chat_new(const struct llama_model *model, const char *template_override, char **err) {
    if (err) *err = nullptr;
    try {
        std::unique_ptr<ia_chat> c(new ia_chat());
        bool has_override = template_override && *template_override;
        /* common_chat_templates_init would substitute ChatML for a model with
         * no template; a base model (TinyStories) continues plain text far
         * better, so that case is ours: the documented plain fallback. */
        if (!has_override && (!model || !llama_model_chat_template(model, nullptr))) return c.release();
        c->tmpls = common_chat_templates_init(model, has_override ? template_override : "");
        if (!c->tmpls) {
            set_err(err, "chat template: initialisation failed");
            return nullptr;
        }
        const char *src = has_override ? template_override : llama_model_chat_template(model, nullptr);
        auto caps = common_chat_templates_get_caps(c->tmpls.get());
        if (!caps["supports_tools"] && src && std::strstr(src, "<|im_start|>"))
            c->tools_tmpls = common_chat_templates_init(model, CHATML_TOOLS);
        return c.release();
    } catch (const std::exception &e) {
        set_err(err, std::string("chat template: ") + e.what());
    } catch (...) {
        set_err(err, "chat template: unknown error");
    }
    return nullptr;
}

extern "C" void ia_chat_free(ia_chat *c) {
    delete c;
}

extern "C" bool ia_chat_is_plain(const ia_chat *c) {
    return !c || !c->tmpls;
}

static common_chat_msg to_common(const ia_chat_msg &m) {
    common_chat_msg cm;
    cm.role = m.role ? m.role : "user";
    cm.content = m.content ? m.content : "";
    for (size_t k = 0; k < m.n_calls; k++) {
        common_chat_tool_call tc;
        tc.id = m.calls[k].id ? m.calls[k].id : "";
        tc.name = m.calls[k].name ? m.calls[k].name : "";
        tc.arguments = m.calls[k].arguments ? m.calls[k].arguments : "{}";
        cm.tool_calls.push_back(std::move(tc));
    }
    if (m.tool_call_id) cm.tool_call_id = m.tool_call_id;
    if (m.tool_name) cm.tool_name = m.tool_name;
    if (m.reasoning) cm.reasoning_content = m.reasoning;
    return cm;
}

extern "C" int ia_chat_render_ex(ia_chat *c, const ia_chat_msg *msgs, size_t n, const ia_chat_opts *opts,
                                 char **out, ia_chat_state **state, char **err) {
    if (out) *out = nullptr;
    if (err) *err = nullptr;
    if (state) *state = nullptr;
    try {
        std::unique_ptr<ia_chat_state> st(new ia_chat_state());
        std::string text;
        bool tools = opts && opts->n_tools > 0;
        if (!c->tmpls) {
            if (tools) {
                set_err(err, "tools: this model has no chat template, so it cannot be told about functions");
                return -1;
            }
            /* Plain fallback: the turns' text, no roles (see chat.h). */
            for (size_t i = 0; i < n; i++) {
                if (!msgs[i].content || !*msgs[i].content) continue;
                /* A model turn continues the text right where it was
                 * generated (no separator before it), so the next turn's
                 * prompt starts with exactly what the model saw and wrote. */
                bool model = msgs[i].role && !std::strcmp(msgs[i].role, "assistant");
                if (!text.empty() && !model) text += "\n\n";
                text += msgs[i].content;
            }
        } else {
            common_chat_templates_inputs in;
            in.use_jinja = true;
            in.add_generation_prompt = true;
            for (size_t i = 0; i < n; i++) in.messages.push_back(to_common(msgs[i]));
            if (tools) {
                for (size_t i = 0; i < opts->n_tools; i++) {
                    common_chat_tool t;
                    t.name = opts->tools[i].name ? opts->tools[i].name : "";
                    t.description = opts->tools[i].description ? opts->tools[i].description : "";
                    t.parameters = opts->tools[i].parameters ? opts->tools[i].parameters : "{\"type\":\"object\"}";
                    in.tools.push_back(std::move(t));
                }
                bool compose = opts->answer_grammar && *opts->answer_grammar && opts->tool_choice == IA_CHAT_TOOLS_AUTO;
                if (compose) st->answer = opts->answer_grammar;
                /* composing starts from the "required" grammar (on from the
                 * first token) and adds the answer as the other branch */
                in.tool_choice = opts->tool_choice == IA_CHAT_TOOLS_REQUIRED || compose ? COMMON_CHAT_TOOL_CHOICE_REQUIRED
                                 : opts->tool_choice == IA_CHAT_TOOLS_NONE   ? COMMON_CHAT_TOOL_CHOICE_NONE
                                                                             : COMMON_CHAT_TOOL_CHOICE_AUTO;
                /* A required call is one call: the grammar then ends with it,
                 * where parallel calls would let a model that never stops
                 * calling run to the token limit. */
                in.parallel_tool_calls = opts->parallel_tool_calls && opts->tool_choice != IA_CHAT_TOOLS_REQUIRED && !compose;
                st->parse_tools = opts->tool_choice != IA_CHAT_TOOLS_NONE;
                st->required = opts->tool_choice == IA_CHAT_TOOLS_REQUIRED || compose;
            }
            in.reasoning_format = COMMON_REASONING_FORMAT_AUTO;
            if (opts) {
                in.enable_thinking = opts->thinking_budget >= 0;
                st->budget = opts->thinking_budget < 0 ? 0 : opts->thinking_budget > 0 ? opts->thinking_budget : -1;
            }
            bool tool_talk = tools; /* calls or results in the history need the tool syntax too */
            for (size_t i = 0; i < n && !tool_talk; i++)
                tool_talk = msgs[i].n_calls || (msgs[i].role && std::strcmp(msgs[i].role, "tool") == 0);
            const common_chat_templates *t = tool_talk && c->tools_tmpls ? c->tools_tmpls.get() : c->tmpls.get();
            st->params = common_chat_templates_apply(t, in);
            if (st->required && st->params.grammar.empty()) {
                /* no call format: the functions would be silently ignored */
                set_err(err, "tools: this model's chat template has no tool-call format that llama.cpp's chat "
                             "library knows, so it cannot call functions (give a template with --chat-template)");
                return -1;
            }
            text = st->params.prompt;
            for (const auto &stop : st->params.additional_stops) st->stops.push_back(stop.c_str());
        }
        *out = dup_cstr(text);
        if (!*out) {
            set_err(err, "out of memory");
            return -1;
        }
        if (state) *state = st.release();
        return 0;
    } catch (const std::exception &e) {
        set_err(err, std::string("chat template: ") + e.what());
    } catch (...) {
        set_err(err, "chat template: unknown error");
    }
    return -1;
}

extern "C" int ia_chat_render(ia_chat *c, const ia_chat_msg *msgs, size_t n, char **out, char **err) {
    return ia_chat_render_ex(c, msgs, n, nullptr, out, nullptr, err);
}

extern "C" bool ia_chat_state_reasons(const ia_chat_state *st) {
    return st && (!st->params.thinking_start_tag.empty() || st->params.supports_thinking);
}

extern "C" bool ia_chat_reasons(ia_chat *c) {
    if (!c || !c->tmpls) return false;
    ia_chat_msg m = {};
    m.role = "user";
    m.content = "Hi";
    ia_chat_opts o = {};
    char *prompt = nullptr, *err = nullptr;
    ia_chat_state *st = nullptr;
    bool r = ia_chat_render_ex(c, &m, 1, &o, &prompt, &st, &err) == 0 && ia_chat_state_reasons(st);
    std::free(prompt);
    std::free(err);
    ia_chat_state_free(st);
    return r;
}

extern "C" int ia_chat_state_budget_sampler(const ia_chat_state *st, const struct llama_vocab *vocab,
                                            struct llama_sampler **out, char **err) {
    *out = nullptr;
    if (err) *err = nullptr;
    const common_chat_params &p = st->params;
    if (st->budget < 0 || p.thinking_start_tag.empty() || p.thinking_end_tags.empty()) return 0;
    try {
        std::vector<llama_tokens> starts = {common_tokenize(vocab, p.thinking_start_tag, false, true)};
        std::vector<llama_tokens> ends;
        for (const auto &e : p.thinking_end_tags) ends.push_back(common_tokenize(vocab, e, false, true));
        llama_tokens forced = common_tokenize(vocab, p.thinking_end_tags.front(), false, true);
        llama_sampler *b = common_reasoning_budget_init(vocab, starts, ends, forced, st->budget);
        if (!b) {
            set_err(err, "thinking: the reasoning budget could not be set up");
            return -1;
        }
        /* the template may already have opened the block (a generation
         * prompt ending in the start tag): the sampler reads it too */
        for (llama_token t : common_tokenize(vocab, p.generation_prompt, false, true)) llama_sampler_accept(b, t);
        *out = b;
        return 0;
    } catch (const std::exception &e) {
        set_err(err, std::string("thinking: ") + e.what());
    } catch (...) {
        set_err(err, "thinking: the reasoning budget failed");
    }
    return -1;
}

extern "C" bool ia_chat_budget_inside(const struct llama_sampler *budget) {
    common_reasoning_budget_state s = common_reasoning_budget_get_state(budget);
    return s == REASONING_BUDGET_COUNTING || s == REASONING_BUDGET_WAITING_UTF8 || s == REASONING_BUDGET_FORCING;
}

extern "C" void ia_chat_state_free(ia_chat_state *st) {
    delete st;
}

extern "C" const char *ia_chat_state_format(const ia_chat_state *st) {
    return common_chat_format_name(st->params.format);
}

extern "C" const char *const *ia_chat_state_stops(const ia_chat_state *st, size_t *n) {
    *n = st->stops.size();
    return st->stops.empty() ? nullptr : st->stops.data();
}

/* The rule `name ::= ...` of a GBNF text: its line's offset and length. */
static bool find_rule(const std::string &g, const std::string &name, size_t *at, size_t *len) {
    std::string head = name + " ::= ";
    for (size_t pos = 0; pos < g.size();) {
        size_t end = g.find('\n', pos);
        if (end == std::string::npos) end = g.size();
        if (g.compare(pos, head.size(), head) == 0) {
            *at = pos;
            *len = end - pos;
            return true;
        }
        pos = end + 1;
    }
    return false;
}

/* llama.cpp's "required" grammar lets free text run up to the first call
 * (an "until-N?" in root) and, for families with a tag per call, repeats
 * the tag whatever parallel_tool_calls says. A call that must come comes
 * first and alone, or a model that never writes the call's opening tag (or
 * never stops calling) would talk to the token limit. Plain string edits:
 * std::regex trips GCC 12's -Wmaybe-uninitialized under the sanitizers. */
static void required_grammar(std::string &g) {
    size_t at, len;
    if (find_rule(g, "root", &at, &len)) {
        std::string line = g.substr(at, len), out;
        for (size_t i = 0; i < line.size();) {
            if (line.compare(i, 7, " until-") == 0) {
                size_t k = i + 7;
                while (k < line.size() && std::isdigit((unsigned char)line[k])) k++;
                if (k > i + 7 && k < line.size() && line[k] == '?') {
                    i = k + 1;
                    continue;
                }
            }
            out += line[i++];
        }
        g.replace(at, len, out);
    }
    if (find_rule(g, "tool-calls", &at, &len)) {
        std::string head = "tool-calls ::= ";
        std::string body = g.substr(at + head.size(), len - head.size());
        if (body.size() > 3 && body.front() == '(' && body.compare(body.size() - 2, 2, ")+") == 0)
            g.replace(at, len, head + body.substr(1, body.size() - 3));
    }
}

/* Appends the answer grammar's rules, renamed "answer-<name>" (names are
 * bare words outside "..." literals and [...] classes), and makes root's
 * final "tool-calls" the choice "(tool-calls | answer-root)". false when
 * root does not end in tool-calls (a family whose grammar we do not know
 * how to extend). */
static bool compose_answer(std::string &g, const std::string &answer) {
    size_t at, len;
    if (!find_rule(g, "root", &at, &len)) return false;
    std::string root = g.substr(at, len);
    const std::string tail = " tool-calls";
    if (root.size() < tail.size() || root.compare(root.size() - tail.size(), tail.size(), tail) != 0) return false;
    std::vector<std::string> names;
    for (size_t pos = 0; pos < answer.size();) {
        size_t end = answer.find('\n', pos);
        if (end == std::string::npos) end = answer.size();
        size_t def = answer.find(" ::= ", pos);
        if (def != std::string::npos && def < end) names.push_back(answer.substr(pos, def - pos));
        pos = end + 1;
    }
    auto is_name = [&](const std::string &w) {
        for (const auto &n : names)
            if (n == w) return true;
        return false;
    };
    std::string out;
    for (size_t i = 0; i < answer.size();) {
        char ch = answer[i];
        if (ch == '"' || ch == '[') { /* a literal or a class: copied as is */
            char close = ch == '"' ? '"' : ']';
            out += answer[i++];
            while (i < answer.size() && answer[i] != close) {
                if (answer[i] == '\\' && i + 1 < answer.size()) out += answer[i++];
                out += answer[i++];
            }
            if (i < answer.size()) out += answer[i++];
        } else if (std::isalnum((unsigned char)ch) || ch == '-' || ch == '_') {
            size_t k = i;
            while (k < answer.size() && (std::isalnum((unsigned char)answer[k]) || answer[k] == '-' || answer[k] == '_')) k++;
            std::string w = answer.substr(i, k - i);
            out += is_name(w) ? "answer-" + w : w;
            i = k;
        } else {
            out += answer[i++];
        }
    }
    root.replace(root.size() - tail.size(), tail.size(), " (tool-calls | answer-root)");
    g.replace(at, len, root);
    if (!g.empty() && g.back() != '\n') g += '\n';
    g += out;
    return true;
}

/* As llama.cpp's common sampler builds it (common/sampling.cpp): words are
 * escaped into patterns, full patterns anchored, and a grammar that is on
 * from the start first reads the generation prompt the template already put
 * in the prompt (the grammar begins there). */
extern "C" int ia_chat_state_sampler(const ia_chat_state *st, const struct llama_vocab *vocab,
                                     struct llama_sampler **out, char **err) {
    *out = nullptr;
    if (err) *err = nullptr;
    const common_chat_params &p = st->params;
    if (p.grammar.empty() || !st->parse_tools) return 0;
    try {
        std::vector<std::string> patterns;
        std::vector<llama_token> tokens;
        for (const auto &t : p.grammar_triggers) {
            switch (t.type) {
            case COMMON_GRAMMAR_TRIGGER_TYPE_WORD: patterns.push_back(regex_escape(t.value)); break;
            case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN: patterns.push_back(t.value); break;
            case COMMON_GRAMMAR_TRIGGER_TYPE_PATTERN_FULL: {
                std::string a = "^$";
                if (!t.value.empty())
                    a = (t.value.front() != '^' ? "^" : "") + t.value + (t.value.back() != '$' ? "$" : "");
                patterns.push_back(a);
                break;
            }
            case COMMON_GRAMMAR_TRIGGER_TYPE_TOKEN: tokens.push_back(t.token); break;
            }
        }
        std::vector<const char *> pc;
        for (const auto &x : patterns) pc.push_back(x.c_str());
        std::string grammar = p.grammar;
        if (st->required && !p.grammar_lazy) required_grammar(grammar);
        if (!st->answer.empty() && (p.grammar_lazy || !compose_answer(grammar, st->answer))) {
            set_err(err, "response_format: this model's tool-call grammar cannot be combined with a schema");
            return -1;
        }
        llama_sampler *g = p.grammar_lazy
            ? llama_sampler_init_grammar_lazy_patterns(vocab, grammar.c_str(), "root", pc.data(), pc.size(),
                                                       tokens.data(), tokens.size())
            : llama_sampler_init_grammar(vocab, grammar.c_str(), "root");
        if (!g) {
            set_err(err, "tools: llama.cpp could not parse the tool-call grammar");
            return -1;
        }
        if (!p.grammar_lazy && !p.generation_prompt.empty()) {
            std::vector<llama_token> toks = common_tokenize(vocab, p.generation_prompt, false, true);
            for (size_t i = 0; i < toks.size(); i++) {
                std::string piece = common_token_to_piece(vocab, toks[i], true);
                if (i == 0 && !piece.empty() && std::isspace((unsigned char)piece[0]) &&
                    !std::isspace((unsigned char)p.generation_prompt[0]))
                    continue;
                llama_sampler_accept(g, toks[i]);
            }
        }
        *out = g;
        return 0;
    } catch (const std::exception &e) {
        set_err(err, std::string("tools: ") + e.what());
    } catch (...) {
        set_err(err, "tools: the tool-call grammar failed");
    }
    return -1;
}

/* Where the answer starts in the raw text of a turn: after the reasoning
 * and the family's end tag when there was reasoning (the end of the text
 * when the reasoning was never closed), at the parsed text when there is
 * some (a family may put markup between the two). */
static size_t answer_start(const ia_chat_state *st, const std::string &raw, const common_chat_msg &msg) {
    size_t from = 0;
    const auto &ends = st->params.thinking_end_tags;
    const std::string &open = st->params.thinking_start_tag;
    size_t lead = raw.find_first_not_of(" \t\r\n");
    bool block = !open.empty() && lead != std::string::npos && raw.compare(lead, open.size(), open) == 0;
    if (!msg.reasoning_content.empty() || block) {
        /* past the reasoning (an empty block too): the first end tag closes
         * it; the family's other end tags (a call's opener, for some) end it
         * without being part of it, so the text starts at them */
        size_t at = msg.reasoning_content.empty() ? lead + open.size() : raw.find(msg.reasoning_content);
        from = at == std::string::npos ? 0 : at + msg.reasoning_content.size();
        size_t end = std::string::npos, past = 0;
        for (size_t k = 0; k < ends.size(); k++) {
            size_t e = raw.find(ends[k], from);
            if (e != std::string::npos && (end == std::string::npos || e < end)) {
                end = e;
                past = k == 0 ? ends[k].size() : 0;
            }
        }
        if (end != std::string::npos) from = end + past;
        else if (!ends.empty()) return raw.size(); /* cut inside the reasoning */
    }
    if (!msg.content.empty()) {
        size_t at = raw.find(msg.content, from);
        if (at != std::string::npos) from = at;
    }
    return from;
}

static void drop_calls(ia_chat_parsed *out) {
    for (size_t i = 0; i < out->n_calls; i++) {
        std::free(out->calls[i].id);
        std::free(out->calls[i].name);
        std::free(out->calls[i].arguments);
    }
    std::free(out->calls);
    out->calls = nullptr;
    out->n_calls = 0;
}

extern "C" int ia_chat_parse_cut(const ia_chat_state *st, const char *text, ia_chat_parsed *out, char **err) {
    if (ia_chat_parse(st, text, true, out, err) != 0) return -1;
    if (!st->parse_tools) return 0;
    /* A turn cut short returns no call: one may be unfinished, and even a
     * whole one belongs to a turn that did not end. What the model wrote
     * after its reasoning, call syntax included, is its text. */
    try {
        std::string raw = text;
        common_chat_parser_params pp(st->params);
        pp.reasoning_format = COMMON_REASONING_FORMAT_AUTO;
        pp.parse_tool_calls = st->parse_tools;
        if (!st->params.parser.empty()) pp.parser.load(st->params.parser);
        common_chat_msg msg = common_chat_parse(raw, true, pp);
        std::string tail = raw.substr(answer_start(st, raw, msg));
        tail.erase(0, std::min(tail.size(), tail.find_first_not_of(" \t\r\n")));
        drop_calls(out);
        std::free(out->content);
        out->content = dup_cstr(tail);
        return 0;
    } catch (...) {
        /* the parse above succeeded on the same text; keep its result, calls dropped */
        drop_calls(out);
        return 0;
    }
}

extern "C" int ia_chat_parse(const ia_chat_state *st, const char *text, bool partial, ia_chat_parsed *out,
                             char **err) {
    std::memset(out, 0, sizeof *out);
    if (err) *err = nullptr;
    try {
        common_chat_msg msg;
        if (st->params.parser.empty() && !st->parse_tools && st->params.thinking_start_tag.empty()) {
            msg.content = text;
        } else {
            common_chat_parser_params pp(st->params);
            pp.reasoning_format = COMMON_REASONING_FORMAT_AUTO;
            pp.parse_tool_calls = st->parse_tools;
            if (!st->params.parser.empty()) pp.parser.load(st->params.parser);
            msg = common_chat_parse(text, partial, pp);
        }
        /* The blank lines around a thinking block are layout, not text. */
        auto ws = " \t\r\n";
        std::string reasoning = msg.reasoning_content;
        reasoning.erase(0, reasoning.find_first_not_of(ws));
        reasoning.erase(reasoning.find_last_not_of(ws) + 1);
        std::string content = msg.content;
        /* Leading blank lines are layout after a thinking block or before a
         * call; for a turn that may call they go whether or not a call has
         * come yet, so the text of a partial parse (streamed live) is always
         * a prefix of the final one's. */
        if (!reasoning.empty() || !msg.tool_calls.empty() || st->parse_tools) {
            size_t lead = content.find_first_not_of(ws);
            content.erase(0, lead == std::string::npos ? content.size() : lead);
        }
        out->content = dup_cstr(content);
        out->reasoning = dup_cstr(reasoning);
        if (!msg.tool_calls.empty()) {
            out->calls = static_cast<decltype(out->calls)>(std::calloc(msg.tool_calls.size(), sizeof *out->calls));
            for (const auto &tc : msg.tool_calls) {
                /* A call whose arguments are not a JSON object is unfinished
                 * (cut by max tokens) or malformed: a truncated turn drops
                 * it, a finished one is an error, never a broken call. */
                json_t *args = json_loads(tc.arguments.empty() ? "{}" : tc.arguments.c_str(), 0, nullptr);
                bool obj = json_is_object(args);
                json_decref(args);
                if (!obj) {
                    if (partial) continue;
                    ia_chat_parsed_free(out);
                    set_err(err, "the model wrote a malformed call of '" + tc.name + "' (its arguments are not a JSON object)");
                    return -1;
                }
                auto &dst = out->calls[out->n_calls++];
                dst.id = dup_cstr(tc.id);
                dst.name = dup_cstr(tc.name);
                dst.arguments = dup_cstr(tc.arguments.empty() ? std::string("{}") : tc.arguments);
            }
        }
        return 0;
    } catch (const std::exception &e) {
        ia_chat_parsed_free(out);
        set_err(err, std::string("parsing the model's output: ") + e.what());
    } catch (...) {
        ia_chat_parsed_free(out);
        set_err(err, "parsing the model's output failed");
    }
    return -1;
}

extern "C" void ia_chat_parsed_free(ia_chat_parsed *p) {
    if (!p) return;
    std::free(p->content);
    std::free(p->reasoning);
    for (size_t i = 0; i < p->n_calls; i++) {
        std::free(p->calls[i].id);
        std::free(p->calls[i].name);
        std::free(p->calls[i].arguments);
    }
    std::free(p->calls);
    std::memset(p, 0, sizeof *p);
}

/* ---- schema grammars (declared in schema/schema.h) ------------------------
 * A prepared JSON Schema (schema.c) to a GBNF grammar through llama.cpp's own
 * converter, json_schema_to_grammar, so the grammar is exactly what
 * llama-server would build. It lives in this shim because the shim is the
 * project's one C++ file. Exceptions (the converter throws on schemas it
 * cannot express) become IA_EINVALID at the C boundary; force_gbnf: never an
 * llguidance grammar, which our sampler cannot run. */

extern "C" char *ia_schema_grammar(json_t *prepared, const char *path, ia_err *err) {
    char *text = json_dumps(prepared, JSON_COMPACT);
    if (!text) {
        ia_fail(err, IA_EINTERNAL, "out of memory");
        return nullptr;
    }
    try {
        common_json schema = common_json::parse(text);
        std::free(text);
        text = nullptr;
        std::string g = json_schema_to_grammar(schema, true);
        /* The converter's exponent takes up to 16 digits (1e9999999999 is
         * grammatical), which no double holds and most JSON parsers refuse;
         * two digits keep every number the grammar writes finite. */
        const std::string exp_from = "([eE] [-+]? integral-part)?";
        const std::string exp_to = "([eE] [-+]? [0-9]{1,2})?";
        for (size_t at = g.find(exp_from); at != std::string::npos; at = g.find(exp_from, at))
            g.replace(at, exp_from.size(), exp_to);
        char *why = nullptr, *rule = nullptr;
        if (ia_chat_grammar_check(g.c_str(), &why, &rule) != 0) {
            ia_fail(err, IA_EINVALID,
                    "%s: llama.cpp's grammar engine refuses the grammar of this schema (rule '%s': %s)",
                    path, rule ? rule : "?", why ? why : "?");
            std::free(why);
            std::free(rule);
            return nullptr;
        }
        char *out = static_cast<char *>(std::malloc(g.size() + 1));
        if (!out) {
            ia_fail(err, IA_EINTERNAL, "out of memory");
            return nullptr;
        }
        std::memcpy(out, g.c_str(), g.size() + 1);
        return out;
    } catch (const std::exception &e) {
        std::free(text);
        /* The converter's message lists its errors one per line. */
        std::string m = e.what();
        for (char &ch : m)
            if (ch == '\n') ch = ' ';
        ia_fail(err, IA_EINVALID, "%s: %s", path, m.c_str());
    } catch (...) {
        std::free(text);
        ia_fail(err, IA_EINVALID, "%s: the schema could not be turned into a grammar", path);
    }
    return nullptr;
}

/* ---- sampling behind a C++ guard -------------------------------------------
 * llama.cpp's grammar sampler throws (std::runtime_error) when the grammar
 * leaves no way forward; an exception crossing the C engine would terminate
 * the process, so it stops here and the engine fails that one job. */
extern "C" int ia_chat_sample(struct llama_sampler *smpl, struct llama_context *ctx, int idx,
                              int32_t *out) {
    try {
        *out = llama_sampler_sample(smpl, ctx, idx);
        return 0;
    } catch (...) {
        return -1;
    }
}
