/* grammar.cpp: a prepared JSON Schema (schema.c) to a GBNF grammar through
 * llama.cpp's own converter, json_schema_to_grammar in libllama-common, so
 * the grammar is exactly what llama-server would build. C++ exceptions (the
 * converter throws on schemas it cannot express) become an IA_EINVALID at
 * the C boundary. force_gbnf: never an llguidance grammar, which our
 * sampler cannot run. */
extern "C" {
#include "schema/schema.h"
}

#include <json-schema-to-grammar.h>

#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>

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
