/* test_store_lease: several instances on one PostgreSQL database, through
 * two store handles of two instances on a real server (pg_help.h): a lease
 * that its runner renews is never taken over; one that has passed is, once
 * (failed, saying so, with closing events past the seq gap), the late
 * runner's renewal names it lost, and its own events and end are then
 * refused (IA_ECONFLICT), never landing after the takeover's end nor
 * inserting a deleted row again; an append repeated after a lost COMMIT
 * succeeds; a cancel of a row whose runner lives is pending, seen
 * by the runner's renewal and its notification listener (which also hears
 * of events another instance appends: what wakes followed streams); a cancel of a row
 * whose lease has passed ends it cancelled at once, as a takeover of a row
 * a cancel was asked for does. SQLite has none of it. */
#include "unit.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/util.h"
#include "pg_help.h"
#include "store/store.h"

#define PG_DB(buf, name)                                                           \
    do {                                                                           \
        ia_test_store_pg = true;                                                   \
        bool ok_ = ia_test_store_spec(buf, sizeof buf, name, "", ia_failed_);      \
        ia_test_store_pg = false;                                                  \
        if (!ok_) return;                                                          \
    } while (0)

static int put_running(ia_store *s, const char *id) {
    ia_interaction it;
    memset(&it, 0, sizeof it);
    snprintf(it.id, sizeof it.id, "%s", id);
    it.owner = ia_strdup("o");
    it.model = ia_strdup("demo");
    it.status = IA_STATUS_IN_PROGRESS;
    it.created = it.updated = 1700000000;
    ia_turn *u = ia_conv_add_turn(&it.input, IA_ROLE_USER);
    ia_turn_add_text(u, "hi", 2);
    it.output.role = IA_ROLE_MODEL;
    ia_err err = {0};
    int rc = ia_store_put(s, &it, &err);
    ia_interaction_free(&it);
    return rc;
}

static ia_status status_of(ia_store *s, const char *id) {
    ia_interaction out;
    ia_err err = {0};
    if (ia_store_get(s, id, "o", 0, &out, &err) != 0) return (ia_status)-1;
    ia_status st = out.status;
    ia_interaction_free(&out);
    return st;
}

/* Two instances' handles on one fresh database; a's lease is lease_ms. */
static bool two(const char *ci, int64_t lease_ms, ia_store **a, ia_store **b) {
    ia_err err = {0};
    *a = ia_store_open(ci, &err);
    *b = ia_store_open(ci, &err);
    if (!*a || !*b) return false;
    ia_store_set_instance(*a, "instance-a");
    ia_store_set_instance(*b, "instance-b");
    ia_store_set_lease(*a, lease_ms);
    return true;
}

/* Renews a's live ids once; 0 and the counts of cancel and lost ids. */
static int renew(ia_store *a, char **live, size_t n, size_t *n_cancel, char ***lost, size_t *n_lost) {
    char **cancel = NULL;
    ia_err err = {0};
    int rc = ia_store_lease_renew(a, live, n, &cancel, n_cancel, lost, n_lost, &err);
    ia_store_ids_free(cancel, *n_cancel);
    return rc;
}

IA_TEST(store_lease_renewed_is_kept_passed_is_taken_over_once) {
    char ci[1024];
    PG_DB(ci, "pg_lease_takeover");
    ia_store *a, *b;
    /* the kept row's lease is long (a renewal late on a busy machine must
     * not lose it); only the row to be taken over gets 1 ms */
    IA_CHECK(two(ci, 60000, &a, &b));
    ia_err err = {0};
    IA_CHECK(ia_store_shared(a));
    IA_CHECK(put_running(a, "v1_kept") == 0);
    ia_store_set_lease(a, 1);
    IA_CHECK(put_running(a, "v1_lost") == 0);
    ia_store_set_lease(a, 60000);
    usleep(20 * 1000); /* past the 1 ms lease */
    char *live[] = {"v1_kept"};
    size_t nc = 9, nl = 9;
    char **lost = NULL;
    IA_CHECK(renew(a, live, 1, &nc, &lost, &nl) == 0);
    IA_CHECK(nc == 0 && nl == 0);
    ia_store_ids_free(lost, nl);
    int taken = ia_store_takeover(b, NULL, 0, 1800000000, "the instance is gone", &err);
    int again = ia_store_takeover(b, NULL, 0, 1800000000, "the instance is gone", &err);
    IA_CHECK(taken == 1);
    IA_CHECK(again == 0);
    IA_CHECK(status_of(b, "v1_kept") == IA_STATUS_IN_PROGRESS);
    ia_interaction out;
    IA_CHECK(ia_store_get(b, "v1_lost", "o", 0, &out, &err) == 0);
    IA_CHECK(out.status == IA_STATUS_FAILED);
    IA_CHECK_STREQ(out.error, "the instance is gone");
    ia_interaction_free(&out);
    ia_event *evs = NULL;
    size_t n = 0;
    IA_CHECK(ia_store_events(b, "v1_lost", 0, &evs, &n, &err) == 0);
    IA_CHECK(n == 3 && evs[0].kind == IA_EV_ERROR && evs[2].kind == IA_EV_COMPLETE);
    IA_CHECK(n == 3 && evs[0].seq == IA_STORE_RECOVER_SEQ_GAP + 1);
    ia_events_free(evs, n);
    /* the late runner's renewal names the row it lost, not the kept one */
    char *both[] = {"v1_kept", "v1_lost"};
    IA_CHECK(renew(a, both, 2, &nc, &lost, &nl) == 0);
    IA_CHECK(nl == 1 && strcmp(lost[0], "v1_lost") == 0);
    ia_store_ids_free(lost, nl);
    /* the late runner's end is refused; the takeover's stands */
    IA_CHECK(ia_store_get(a, "v1_lost", "o", 0, &out, &err) == 0);
    out.status = IA_STATUS_COMPLETED;
    ia_event done = {.kind = IA_EV_COMPLETE, .status = IA_STATUS_COMPLETED};
    ia_err ferr = {0};
    int fin = ia_store_finish(a, &out, &done, 1, &ferr);
    ia_interaction_free(&out);
    IA_CHECK(fin != 0 && ferr.code == IA_ECONFLICT);
    IA_CHECK(status_of(a, "v1_lost") == IA_STATUS_FAILED);
    ia_store_close(a);
    ia_store_close(b);
}

/* A runner that comes back after its row was taken over, or deleted by
 * another instance: its events are refused (none lands after the
 * takeover's end), and its final write neither overwrites the end nor
 * inserts the deleted row again. */
IA_TEST(store_lease_late_runner_is_refused) {
    char ci[1024];
    PG_DB(ci, "pg_lease_late");
    ia_store *a, *b;
    IA_CHECK(two(ci, 1, &a, &b));
    ia_err err = {0};
    IA_CHECK(put_running(a, "v1_taken") == 0);
    IA_CHECK(put_running(a, "v1_deleted") == 0);
    usleep(20 * 1000);
    IA_CHECK(ia_store_takeover(b, NULL, 0, 1800000000, "gone", &err) == 2);
    IA_CHECK(ia_store_delete(b, "v1_deleted", "o", &err) == 0);
    ia_event late = {.seq = 7, .kind = IA_EV_STATUS, .status = IA_STATUS_IN_PROGRESS};
    ia_err ae = {0}, de = {0}, fe = {0}, ge = {0};
    int app = ia_store_append_events(a, "v1_taken", &late, 1, &ae);
    int app_gone = ia_store_append_events(a, "v1_deleted", &late, 1, &de);
    ia_event *evs = NULL;
    size_t n = 0;
    IA_CHECK(ia_store_events(b, "v1_taken", 0, &evs, &n, &err) == 0);
    bool only_takeover = n == 3 && evs[0].seq > IA_STORE_RECOVER_SEQ_GAP && evs[2].kind == IA_EV_COMPLETE;
    ia_events_free(evs, n);
    /* the late final write of the deleted one */
    ia_interaction it;
    memset(&it, 0, sizeof it);
    snprintf(it.id, sizeof it.id, "v1_deleted");
    it.owner = ia_strdup("o");
    it.model = ia_strdup("demo");
    it.status = IA_STATUS_COMPLETED;
    it.output.role = IA_ROLE_MODEL;
    ia_event done = {.seq = 8, .kind = IA_EV_COMPLETE, .status = IA_STATUS_COMPLETED};
    int fin = ia_store_finish(a, &it, &done, 1, &fe);
    ia_interaction_free(&it);
    ia_interaction out;
    int got = ia_store_get(b, "v1_deleted", "o", 0, &out, &ge);
    if (got == 0) ia_interaction_free(&out);
    IA_CHECK(app != 0 && ae.code == IA_ECONFLICT);
    IA_CHECK(app_gone != 0);
    IA_CHECK(only_takeover);
    IA_CHECK(fin != 0 && fe.code == IA_ECONFLICT);
    IA_CHECK(got != 0 && ge.code == IA_ENOTFOUND);
    IA_CHECK(status_of(b, "v1_taken") == IA_STATUS_FAILED);
    ia_store_close(a);
    ia_store_close(b);
}

/* An append whose COMMIT landed but whose client saw an error is sent
 * again (by the writer's next pass): the events already there are kept
 * once, and the call succeeds instead of failing on the key forever. */
IA_TEST(store_lease_append_repeated_after_a_lost_commit) {
    char ci[1024];
    PG_DB(ci, "pg_lease_append_twice");
    ia_store *a, *b;
    IA_CHECK(two(ci, 60000, &a, &b));
    ia_err err = {0};
    IA_CHECK(put_running(a, "v1_twice") == 0);
    ia_event evs_in[2] = {{.seq = 1, .kind = IA_EV_START}, {.seq = 2, .kind = IA_EV_STATUS,
                                                             .status = IA_STATUS_IN_PROGRESS}};
    IA_CHECK(ia_store_append_events(a, "v1_twice", evs_in, 2, &err) == 0);
    int again = ia_store_append_events(a, "v1_twice", evs_in, 2, &err); /* the retry */
    ia_event more = {.seq = 3, .kind = IA_EV_STATUS, .status = IA_STATUS_IN_PROGRESS};
    int next = ia_store_append_events(a, "v1_twice", evs_in + 1, 1, &err) == 0 &&
               ia_store_append_events(a, "v1_twice", &more, 1, &err) == 0;
    ia_event *evs = NULL;
    size_t n = 0;
    IA_CHECK(ia_store_events(b, "v1_twice", 0, &evs, &n, &err) == 0);
    IA_CHECK(again == 0);
    IA_CHECK(next);
    IA_CHECK(n == 3 && evs[0].seq == 1 && evs[1].seq == 2 && evs[2].seq == 3);
    ia_events_free(evs, n);
    ia_store_close(a);
    ia_store_close(b);
}

IA_TEST(store_lease_cancel_asked_elsewhere) {
    char ci[1024];
    PG_DB(ci, "pg_lease_cancel");
    ia_store *a, *b;
    IA_CHECK(two(ci, 60000, &a, &b));
    ia_err err = {0};
    IA_CHECK(put_running(a, "v1_live") == 0);
    /* a's listener is up before the request (LISTEN is not retroactive) */
    char **ids = NULL;
    size_t n = 0;
    bool events = false;
    ia_store_listen(a, 10, &ids, &n, &events);
    ia_store_ids_free(ids, n);
    bool pending = false;
    IA_CHECK(ia_store_cancel_request(b, "v1_live", "o", 0, &pending, &err) == 0);
    IA_CHECK(pending);
    IA_CHECK(status_of(b, "v1_live") == IA_STATUS_IN_PROGRESS);
    /* the notification, then the flag at the renewal */
    IA_CHECK(ia_store_listen(a, 5000, &ids, &n, &events) == 0);
    IA_CHECK(n == 1 && strcmp(ids[0], "v1_live") == 0);
    ia_store_ids_free(ids, n);
    char *live[] = {"v1_live"};
    char **lost = NULL;
    size_t n_lost = 0;
    IA_CHECK(ia_store_lease_renew(a, live, 1, &ids, &n, &lost, &n_lost, &err) == 0);
    IA_CHECK(n == 1 && strcmp(ids[0], "v1_live") == 0 && n_lost == 0);
    ia_store_ids_free(ids, n);
    ia_store_ids_free(lost, n_lost);
    /* events its runner appends wake b's listener (the tails that follow
     * the run from b); b's listener is up first */
    ia_store_listen(b, 10, &ids, &n, &events);
    ia_store_ids_free(ids, n);
    ia_event ev = {.kind = IA_EV_STATUS, .status = IA_STATUS_IN_PROGRESS};
    IA_CHECK(ia_store_append_events(a, "v1_live", &ev, 1, &err) == 0);
    events = false;
    for (int i = 0; i < 50 && !events; i++) {
        IA_CHECK(ia_store_listen(b, 100, &ids, &n, &events) == 0);
        ia_store_ids_free(ids, n);
    }
    IA_CHECK(events);
    /* another owner's cancel finds nothing */
    ia_err nf = {0};
    IA_CHECK(ia_store_cancel_request(b, "v1_live", "other", 0, &pending, &nf) != 0 && nf.code == IA_ENOTFOUND);
    ia_store_close(a);
    ia_store_close(b);
}

IA_TEST(store_lease_passed_cancel_and_takeover_end_cancelled) {
    char ci[1024];
    PG_DB(ci, "pg_lease_dead_cancel");
    ia_store *a, *b;
    IA_CHECK(two(ci, 1, &a, &b));
    ia_err err = {0};
    IA_CHECK(put_running(a, "v1_orphan") == 0);
    IA_CHECK(put_running(a, "v1_asked") == 0);
    usleep(20 * 1000); /* past the 1 ms lease */
    bool pending = true;
    IA_CHECK(ia_store_cancel_request(b, "v1_orphan", "o", 0, &pending, &err) == 0);
    IA_CHECK(!pending);
    IA_CHECK(status_of(b, "v1_orphan") == IA_STATUS_CANCELLED);
    ia_event *evs = NULL;
    size_t n = 0;
    IA_CHECK(ia_store_events(b, "v1_orphan", 0, &evs, &n, &err) == 0);
    IA_CHECK(n == 2 && evs[0].kind == IA_EV_STATUS && evs[1].kind == IA_EV_COMPLETE &&
             evs[1].status == IA_STATUS_CANCELLED);
    ia_events_free(evs, n);
    /* a cancel asked while the lease held, then the runner died: the
     * takeover ends it cancelled */
    ia_store_set_lease(a, 60000);
    IA_CHECK(put_running(a, "v1_asked") == 0);
    IA_CHECK(ia_store_cancel_request(b, "v1_asked", "o", 0, &pending, &err) == 0 && pending);
    ia_store_set_lease(a, 1);
    IA_CHECK(put_running(a, "v1_asked") == 0); /* keeps cancel_requested, lease 1 ms */
    usleep(20 * 1000);
    IA_CHECK(ia_store_takeover(b, NULL, 0, 1800000000, "gone", &err) == 1);
    IA_CHECK(status_of(b, "v1_asked") == IA_STATUS_CANCELLED);
    ia_store_close(a);
    ia_store_close(b);
}

IA_TEST(store_lease_sqlite_has_none) {
    char dir[] = "/tmp/ia-lease-XXXXXX";
    IA_CHECK(mkdtemp(dir) != NULL);
    char *path = ia_asprintf("%s/x.db", dir);
    ia_err err = {0};
    ia_store *s = ia_store_open(path, &err);
    IA_CHECK(s != NULL);
    if (s) {
        IA_CHECK(!ia_store_shared(s));
        IA_CHECK(put_running(s, "v1_sq") == 0);
        IA_CHECK(ia_store_takeover(s, NULL, 0, 1800000000, "x", &err) == 0);
        bool pending = true;
        IA_CHECK(ia_store_cancel_request(s, "v1_sq", "o", 0, &pending, &err) == 0 && !pending);
        IA_CHECK(status_of(s, "v1_sq") == IA_STATUS_IN_PROGRESS);
        ia_store_close(s);
    }
    char *rm = ia_asprintf("rm -rf %s", dir);
    IA_CHECK(system(rm) == 0);
    free(rm);
    free(path);
}
