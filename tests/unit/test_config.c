/* test_config: the --config file (cli/config.h) — bare, quoted and array
 * values, comments, [sections], "export", flag names in either spelling
 * and INTERACTD_* names; the refusals with their line; the precedence flag
 * > environment > file for plain and repeatable flags, with each value's
 * source; and --print-config's listing (sources, defaults, an upstream's
 * key masked) read back by the parser. */
#include "unit.h"

#include <stdlib.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/flags.h"
#include "lib/util.h"

IA_TEST(config_parse_forms) {
    const char *t = "# settings\n"
                    "[server]\n"
                    "port = 9090\r\n"
                    "  host=0.0.0.0   # a comment\n"
                    "export INTERACTD_MAX_TOKENS=64\n"
                    "data = \"/var/lib/x \\\"q\\\" #1\"  # kept\n"
                    "log_format = 'json'\n"
                    "model = [\"a=/m/a.gguf\", 'b=/m/b.gguf',]\n"
                    "\n"
                    "url = http://h/a#frag\n";
    cli_kv *kv;
    size_t n;
    ia_err err;
    IA_CHECK(cli_config_parse(t, strlen(t), &kv, &n, &err) == 0);
    IA_CHECK(n == 8);
    IA_CHECK_STREQ(kv[0].key, "port");
    IA_CHECK_STREQ(kv[0].val, "9090");
    IA_CHECK(kv[0].line == 3);
    IA_CHECK_STREQ(kv[1].val, "0.0.0.0");
    IA_CHECK_STREQ(kv[2].key, "INTERACTD_MAX_TOKENS");
    IA_CHECK_STREQ(kv[3].val, "/var/lib/x \"q\" #1");
    IA_CHECK_STREQ(kv[4].val, "json");
    IA_CHECK_STREQ(kv[5].val, "a=/m/a.gguf");
    IA_CHECK_STREQ(kv[6].val, "b=/m/b.gguf");
    IA_CHECK(kv[6].line == 8);
    IA_CHECK_STREQ(kv[7].val, "http://h/a#frag"); /* '#' without a blank before it is no comment */
    cli_config_free(kv, n);

    const char *bad[] = {"port 8080\n", "ok = 1\n= 3\n", "a = \"open\n", "a = \"x\" y\n", "a = [1, 2]\n",
                         "a = [\"x\"\n", "a = \"\\q\"\n"};
    const int line[] = {1, 2, 1, 1, 1, 1, 1};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        IA_CHECK(cli_config_parse(bad[i], strlen(bad[i]), &kv, &n, &err) == -1);
        char want[16];
        snprintf(want, sizeof want, "line %d:", line[i]);
        IA_CHECK_CONTAINS(err.msg, want);
        IA_CHECK(kv == NULL && n == 0);
    }
    IA_CHECK(cli_config_parse("a = 1\0b", 7, &kv, &n, &err) == -1);
    IA_CHECK(cli_flag_lookup("max_tokens") == F_MAX_TOKENS && cli_flag_lookup("max-tokens") == F_MAX_TOKENS);
    IA_CHECK(cli_flag_lookup("INTERACTD_PORT") == F_PORT && cli_flag_lookup("nope") == -1);
    IA_CHECK(cli_flag_lookup("max") == -1 && cli_flag_lookup("INTERACTD_MODELS") == F_MODEL);
}

static const char *ENVS[] = {"INTERACTD_PORT", "INTERACTD_HOST", "INTERACTD_MAX_TOKENS", "INTERACTD_MODELS",
                             "INTERACTD_CONFIG", "INTERACTD_UPSTREAMS", "INTERACTD_DATA"};

IA_TEST(config_precedence_and_print) {
    for (size_t i = 0; i < sizeof ENVS / sizeof *ENVS; i++) unsetenv(ENVS[i]);
    char path[] = "/tmp/ia-config-XXXXXX";
    int fd = mkstemp(path);
    IA_CHECK(fd >= 0);
    const char *t = "port = 7000\nhost = 10.0.0.1\nINTERACTD_MAX_TOKENS = 99\ndata = /srv/d\n"
                    "INTERACTD_MODELS = a=/m/a.gguf,b=/m/b.gguf\n"
                    "upstream = \"img=http://127.0.0.1:1/v1,key=sekrit,api=openai\"\n";
    IA_CHECK(write(fd, t, strlen(t)) == (ssize_t)strlen(t));
    close(fd);
    setenv("INTERACTD_PORT", "7100", 1);         /* env over file */
    setenv("INTERACTD_MAX_TOKENS", "55", 1);     /* env over file */
    char *argv[] = {"--config", path, "--port", "7200", "--print-config", NULL}; /* flag over env */
    cfg c;
    memset(&c, 0, sizeof c);
    char *owned = NULL, *owned_up = NULL;
    cli_parse_args(&c, 5, argv, &owned, &owned_up);
    for (size_t i = 0; i < sizeof ENVS / sizeof *ENVS; i++) unsetenv(ENVS[i]);
    int ok = c.print_config && !strcmp(c.val[F_PORT], "7200") && !strcmp(c.source[F_PORT], "flag") &&
             !strcmp(c.val[F_MAX_TOKENS], "55") && !strcmp(c.source[F_MAX_TOKENS], "env") &&
             !strcmp(c.val[F_HOST], "10.0.0.1") && !strcmp(c.source[F_HOST], "file") && c.file_line[F_HOST] == 2 &&
             c.n_models == 2 && !strcmp(c.models[1], "b=/m/b.gguf") && c.n_upstreams == 1 && !c.val[F_THREADS];
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    cli_print_config(&c, m);
    fclose(m);
    cli_cfg_free(&c);
    free(owned);
    free(owned_up);
    unlink(path);
    IA_CHECK(ok);
    IA_CHECK_CONTAINS(buf, "port = \"7200\"  # flag --port\n");
    IA_CHECK_CONTAINS(buf, "max-tokens = \"55\"  # env INTERACTD_MAX_TOKENS\n");
    char want[128];
    snprintf(want, sizeof want, "host = \"10.0.0.1\"  # file %s:2\n", path);
    IA_CHECK_CONTAINS(buf, want);
    IA_CHECK_CONTAINS(buf, "model = [\"a=/m/a.gguf\", \"b=/m/b.gguf\"]  # file");
    IA_CHECK_CONTAINS(buf, "# threads: default 0\n");
    IA_CHECK_CONTAINS(buf, "key=***,api=openai");
    IA_CHECK(strstr(buf, "sekrit") == NULL);
    /* what it prints reads back as a config file */
    cli_kv *kv;
    size_t n;
    ia_err err;
    int rc = cli_config_parse(buf, len, &kv, &n, &err);
    free(buf);
    IA_CHECK(rc == 0);
    int found = 0;
    for (size_t i = 0; i < n; i++) found += cli_flag_lookup(kv[i].key) >= 0;
    cli_config_free(kv, n);
    IA_CHECK(found == (int)n && n >= 6);
}

IA_TEST(config_repeatables_take_the_first_source) {
    for (size_t i = 0; i < sizeof ENVS / sizeof *ENVS; i++) unsetenv(ENVS[i]);
    char path[] = "/tmp/ia-config-XXXXXX";
    int fd = mkstemp(path);
    IA_CHECK(fd >= 0);
    const char *t = "model = f=/m/f.gguf\nmodel = g=/m/g.gguf\n";
    IA_CHECK(write(fd, t, strlen(t)) == (ssize_t)strlen(t));
    close(fd);
    setenv("INTERACTD_CONFIG", path, 1);
    setenv("INTERACTD_MODELS", "e=/m/e.gguf", 1);
    cfg c;
    memset(&c, 0, sizeof c);
    char *owned = NULL, *owned_up = NULL;
    cli_parse_args(&c, 0, (char *[]){NULL}, &owned, &owned_up);
    int env_wins = c.n_models == 1 && !strcmp(c.models[0], "e=/m/e.gguf") && !strcmp(c.source[F_MODEL], "env") &&
                   !strcmp(c.source[F_CONFIG], "env");
    cli_cfg_free(&c);
    free(owned);
    owned = NULL;
    unsetenv("INTERACTD_MODELS");
    memset(&c, 0, sizeof c);
    cli_parse_args(&c, 0, (char *[]){NULL}, &owned, &owned_up);
    int file_used = c.n_models == 2 && !strcmp(c.models[1], "g=/m/g.gguf") && !strcmp(c.source[F_MODEL], "file");
    cli_cfg_free(&c);
    free(owned);
    unsetenv("INTERACTD_CONFIG");
    unlink(path);
    IA_CHECK(env_wins);
    IA_CHECK(file_used);
}
