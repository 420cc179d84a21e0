/* list.c: GET /{v}/interactions — a page of the caller's stored
 * interactions, newest first (core's ia_core_list; JSON in api/list.c):
 * page_size (default 20, at most 100) and page_token. The console lists a
 * key's conversations with it; Google's API has no such method. */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "core/core.h"
#include "http/http_int.h"

enum MHD_Result ia_http_list(ia_http *h, ia_http_req *r, struct MHD_Connection *c, const char *owner) {
    const char *ps = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page_size");
    const char *pt = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page_token");
    int64_t size = 20, after_created = 0;
    char after_id[80] = "";
    ia_err e = {0};
    if (ps && *ps && (ia_http_parse_int64(ps, &size) < 0 || size < 1)) {
        ia_fail(&e, IA_EINVALID, "page_size: '%.20s' is not a positive integer (at most 100)", ps);
        return ia_http_send_err(r, c, &e, NULL);
    }
    if (size > 100) size = 100;
    if (pt && *pt && ia_api_list_parse_token(pt, &after_created, after_id) != 0) {
        ia_fail(&e, IA_EINVALID, "page_token: not a token this server gave; send the next_page_token of the "
                                 "previous page, or none for the first");
        return ia_http_send_err(r, c, &e, NULL);
    }
    ia_entry *v = NULL;
    size_t n = 0;
    int64_t next_created = 0;
    char next_id[80] = "";
    if (ia_core_list(h->core, owner, after_created, after_id, (int)size, &v, &n, &next_created, next_id, &e) != 0)
        return ia_http_send_err(r, c, &e, NULL);
    char *body = ia_api_list_encode(v, n, next_created, next_id);
    ia_entries_free(v, n);
    return ia_http_send(r, c, 200, body, "application/json", NULL);
}
