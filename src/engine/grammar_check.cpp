/* grammar_check: does llama.cpp's grammar engine take this GBNF? A schema
 * the converter turns into a grammar can still be one the engine refuses
 * when it parses it (a repetition past its limit of 2000, or nested bounds
 * whose expansion passes it). Found while decoding the request, that is a
 * 400 before anything is stored, also for background runs, with the
 * engine's reason and the rule it failed in — instead of a run that fails
 * later with "could not parse the grammar". llama_grammar_parser::parse
 * would print the reason to stderr and return false, so the rules are fed
 * to parse_rule one by one, as parse does, to catch the reason. The parser
 * is llama.cpp's internal one (src/llama-grammar.h) of the pinned commit. */
#include <llama-grammar.h>
#include <llama.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

#include "engine/chat.h"

static char *dup_str(const std::string &s) {
    char *p = static_cast<char *>(std::malloc(s.size() + 1));
    if (p) std::memcpy(p, s.c_str(), s.size() + 1);
    return p;
}

static bool blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

extern "C" int ia_chat_grammar_check(const char *gbnf, char **why, char **rule) {
    *why = nullptr;
    *rule = nullptr;
    llama_grammar_parser parser;
    const char *pos = gbnf;
    std::string name;
    try {
        for (;;) {
            while (blank(*pos)) pos++;
            if (*pos == '#') { /* a comment line */
                while (*pos && *pos != '\n') pos++;
                continue;
            }
            if (!*pos) break;
            const char *end = pos;
            while (*end && !blank(*end) && *end != ':') end++;
            name.assign(pos, static_cast<size_t>(end - pos));
            pos = parser.parse_rule(pos);
        }
        if (parser.rules.empty() || parser.symbol_ids.find("root") == parser.symbol_ids.end()) {
            *why = dup_str("the grammar has no root rule");
            return -1;
        }
        /* every rule referred to is defined (parse's own check) */
        for (const auto &r : parser.rules)
            for (const auto &el : r)
                if (el.type == LLAMA_GRETYPE_RULE_REF &&
                    (el.value >= parser.rules.size() || parser.rules[el.value].empty())) {
                    for (const auto &kv : parser.symbol_ids)
                        if (kv.second == el.value) name = kv.first;
                    *why = dup_str("undefined rule '" + name + "'");
                    *rule = dup_str(name);
                    return -1;
                }
        /* what only building the grammar finds: left recursion, which a
         * repetition of something that may match nothing becomes (a
         * pattern's (x|)*); no vocabulary is needed for that */
        struct llama_sampler *smpl = llama_sampler_init_grammar(nullptr, gbnf, "root");
        if (!smpl) {
            *why = dup_str("left recursion (a repetition of something that may match nothing, e.g. "
                           "(a|)* or (a?)* in a pattern)");
            *rule = dup_str("root");
            return -1;
        }
        llama_sampler_free(smpl);
        return 0;
    } catch (const std::exception &e) {
        std::string w = e.what();
        if (w.find("repetition") != std::string::npos)
            w += "; lower the counts (minItems, minLength, repetitions in a pattern), above all on items "
                 "that are objects or arrays themselves";
        *why = dup_str(w);
    } catch (...) {
        *why = dup_str("the grammar could not be parsed");
    }
    *rule = dup_str(name);
    return -1;
}
