/* computer_use.c: the predefined browser actions (computer_use.h). The
 * names and arguments are those Gemini's computer-use models call and
 * Google's reference agent runs; the schemas bound every coordinate to the
 * 0-999 grid, so a local model's grammar-bound call is always one a client
 * can run. */
#include "tools/computer_use.h"

#include <string.h>

#define XY()                                                                                        \
    "\"x\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":999,\"description\":\"0 = left edge\"},"   \
    "\"y\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":999,\"description\":\"0 = top edge\"}"
#define DIRECTION "\"direction\":{\"type\":\"string\",\"enum\":[\"up\",\"down\",\"left\",\"right\"]}"
#define NONE "{\"type\":\"object\",\"properties\":{}}"

static const ia_cu_function FUNCS[] = {
    {"open_web_browser", "Opens the web browser.", NONE},
    {"wait_5_seconds", "Waits 5 seconds for the page to finish loading or changing.", NONE},
    {"go_back", "Goes back to the previous page in the browser's history.", NONE},
    {"go_forward", "Goes forward to the next page in the browser's history.", NONE},
    {"search", "Opens the default search engine's home page to start a new search.", NONE},
    {"navigate", "Goes to the given URL.",
     "{\"type\":\"object\",\"properties\":{\"url\":{\"type\":\"string\",\"description\":\"the URL to open\"}},"
     "\"required\":[\"url\"]}"},
    {"click_at", "Clicks at a point of the screen (x, y on a 0-999 grid).",
     "{\"type\":\"object\",\"properties\":{" XY() "},\"required\":[\"x\",\"y\"]}"},
    {"hover_at", "Moves the mouse to a point of the screen without clicking (menus, tooltips).",
     "{\"type\":\"object\",\"properties\":{" XY() "},\"required\":[\"x\",\"y\"]}"},
    {"type_text_at", "Clicks at a point of the screen, then types text there (clearing the field first unless "
                     "clear_before_typing is false, pressing Enter after if press_enter is true).",
     "{\"type\":\"object\",\"properties\":{" XY() ",\"text\":{\"type\":\"string\"},"
     "\"press_enter\":{\"type\":\"boolean\"},\"clear_before_typing\":{\"type\":\"boolean\"}},"
     "\"required\":[\"x\",\"y\",\"text\"]}"},
    {"key_combination", "Presses keys together, e.g. \"Control+C\" or \"Enter\".",
     "{\"type\":\"object\",\"properties\":{\"keys\":{\"type\":\"string\",\"description\":\"key names joined by "
     "+\"}},\"required\":[\"keys\"]}"},
    {"scroll_document", "Scrolls the whole page.",
     "{\"type\":\"object\",\"properties\":{" DIRECTION "},\"required\":[\"direction\"]}"},
    {"scroll_at", "Scrolls the element at a point of the screen by magnitude (0-999 grid units; default 800).",
     "{\"type\":\"object\",\"properties\":{" XY() "," DIRECTION
     ",\"magnitude\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":999}},"
     "\"required\":[\"x\",\"y\",\"direction\"]}"},
    {"drag_and_drop", "Drags from a point of the screen and drops at another.",
     "{\"type\":\"object\",\"properties\":{" XY() ","
     "\"destination_x\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":999},"
     "\"destination_y\":{\"type\":\"integer\",\"minimum\":0,\"maximum\":999}},"
     "\"required\":[\"x\",\"y\",\"destination_x\",\"destination_y\"]}"},
};

const ia_cu_function *ia_cu_functions(size_t *n) {
    *n = sizeof FUNCS / sizeof *FUNCS;
    return FUNCS;
}

int ia_cu_find(const char *name) {
    for (size_t i = 0; i < sizeof FUNCS / sizeof *FUNCS; i++)
        if (strcmp(FUNCS[i].name, name) == 0) return (int)i;
    return -1;
}

int ia_cu_environment_ok(const char *env) { return strcmp(env, "browser") == 0; }
