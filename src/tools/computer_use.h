/* computer_use: the predefined browser actions of Gemini's computer_use
 * tool (environment "browser"), as the functions a model is offered: name,
 * description and JSON Schema of each, in the order of Google's reference
 * agent (google-gemini/computer-use-preview). The client runs them: the
 * model's call comes back as a `function_call` (status requires_action)
 * and the client answers with a `function_result` that carries the page's
 * URL and a screenshot (an image part), as for any function. Coordinates
 * are on a 1000 x 1000 grid (0-999) whatever the screen's size; the client
 * scales them to its viewport. Pure data: no dependencies. */
#ifndef IA_TOOLS_COMPUTER_USE_H
#define IA_TOOLS_COMPUTER_USE_H

#include <stddef.h>

typedef struct ia_cu_function {
    const char *name, *description, *parameters; /* parameters: a JSON Schema */
} ia_cu_function;

/* The predefined functions, *n of them. */
const ia_cu_function *ia_cu_functions(size_t *n);
/* Index of the predefined function called name, or -1. */
int ia_cu_find(const char *name);
/* The environments the tool takes ("browser"). */
int ia_cu_environment_ok(const char *env);

#endif
