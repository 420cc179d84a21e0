/* bare_decode: the baseline the server is measured against — a bare
 * llama.cpp decode loop with nothing of interactd in it: load a GGUF,
 * tokenize a raw prompt (no chat template), decode it, then greedily decode
 * N tokens one at a time, and print the prompt and decode speeds. It uses
 * the same libraries, context settings (n_batch 2048, n_ubatch 512),
 * thread count and CPU threadpool (idle workers sleep: --poll 0) the engine
 * uses, so the difference is the server's own cost. --poll -1 uses ggml's
 * default pool instead (it spins, and collapses when the cores are shared).
 *
 *     bare_decode --model PATH [--prompt TEXT] [-n N] [--threads T] [--ctx N]
 *                 [--poll P] [--ignore-eos]
 *
 * The last line is machine-readable:
 *     RESULT prompt_tokens=.. prompt_tps=.. gen_tokens=.. gen_tps=.. threads=.. model_bytes=..
 * (model_bytes: the weights' size, llama_model_size; each decoded token reads
 * all of them once, so run.sh divides memory bandwidth by it for a ceiling)
 *
 * Build: `make build/bare_decode` (bench/run.sh does). Loadable backends
 * (a GGML_BACKEND_DL build's CPU variants) are loaded from beside libggml,
 * as the server does. */
#include <dlfcn.h>
#include <llama.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void quiet(enum ggml_log_level level, const char *text, void *ud) {
    (void)ud;
    if (level == GGML_LOG_LEVEL_ERROR) fputs(text, stderr);
}

static int usage(void) {
    fputs("usage: bare_decode --model PATH [--prompt TEXT] [-n N] [--threads T] [--ctx N] [--poll P] "
          "[--ignore-eos]\n", stderr);
    return 2;
}

int main(int argc, char **argv) {
    const char *model_path = NULL, *prompt = "Once upon a time";
    int n_gen = 128, threads = 0, n_ctx = 4096, poll = 0;
    bool ignore_eos = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--model") == 0 && i + 1 < argc) model_path = argv[++i];
        else if (strcmp(argv[i], "--prompt") == 0 && i + 1 < argc) prompt = argv[++i];
        else if (strcmp(argv[i], "-n") == 0 && i + 1 < argc) n_gen = atoi(argv[++i]);
        else if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) threads = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ctx") == 0 && i + 1 < argc) n_ctx = atoi(argv[++i]);
        else if (strcmp(argv[i], "--poll") == 0 && i + 1 < argc) poll = atoi(argv[++i]);
        else if (strcmp(argv[i], "--ignore-eos") == 0) ignore_eos = true;
        else return usage();
    }
    if (!model_path || n_gen < 1 || n_ctx < 16) return usage();

    llama_log_set(quiet, NULL);
    Dl_info di;
    void *sym = dlsym(RTLD_DEFAULT, "ggml_backend_load_all_from_path");
    char dir[4096];
    const char *slash = sym && dladdr(sym, &di) && di.dli_fname ? strrchr(di.dli_fname, '/') : NULL;
    if (slash && (size_t)(slash - di.dli_fname) < sizeof dir) {
        memcpy(dir, di.dli_fname, (size_t)(slash - di.dli_fname));
        dir[slash - di.dli_fname] = '\0';
        ggml_backend_load_all_from_path(dir);
    }
    if (!ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU)) ggml_backend_load_all();
    llama_backend_init();

    struct llama_model *model = llama_model_load_from_file(model_path, llama_model_default_params());
    if (!model) {
        fprintf(stderr, "bare_decode: cannot load %s\n", model_path);
        return 1;
    }
    const struct llama_vocab *vocab = llama_model_get_vocab(model);
    if (threads <= 0) threads = (int)sysconf(_SC_NPROCESSORS_ONLN);

    struct llama_context_params cp = llama_context_default_params();
    cp.n_ctx = (uint32_t)n_ctx;
    cp.n_batch = n_ctx < 2048 ? (uint32_t)n_ctx : 2048;
    cp.n_ubatch = cp.n_batch < 512 ? cp.n_batch : 512;
    cp.n_seq_max = 1;
    cp.n_threads = threads;
    cp.n_threads_batch = threads;
    cp.no_perf = true;
    struct llama_context *ctx = llama_init_from_model(model, cp);
    if (!ctx) {
        fprintf(stderr, "bare_decode: cannot create a context\n");
        return 1;
    }

    struct ggml_threadpool *tp = NULL;
    void (*tp_free)(struct ggml_threadpool *) = NULL;
    if (poll >= 0) {
        /* As the engine does (llama.c, attach_threadpool). */
        ggml_backend_dev_t dev = ggml_backend_dev_by_type(GGML_BACKEND_DEVICE_TYPE_CPU);
        ggml_backend_reg_t reg = dev ? ggml_backend_dev_backend_reg(dev) : NULL;
        typedef struct ggml_threadpool *(*tp_new_fn)(struct ggml_threadpool_params *);
        tp_new_fn tp_new = reg ? (tp_new_fn)ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_new") : NULL;
        tp_free = reg ? (void (*)(struct ggml_threadpool *))ggml_backend_reg_get_proc_address(reg, "ggml_threadpool_free")
                      : NULL;
        if (tp_new && tp_free) {
            struct ggml_threadpool_params tpp = ggml_threadpool_params_default(threads);
            tpp.poll = (uint32_t)poll;
            tp = tp_new(&tpp);
            if (tp) llama_attach_threadpool(ctx, tp, tp);
        }
    }
    int rc = 1;
    int cap = (int)strlen(prompt) + 8;
    llama_token *toks = malloc((size_t)cap * sizeof *toks);
    struct llama_sampler *smpl = llama_sampler_init_greedy();
    int n_prompt = llama_tokenize(vocab, prompt, (int32_t)strlen(prompt), toks, cap, true, true);
    if (n_prompt <= 0 || n_prompt + n_gen > n_ctx) {
        fprintf(stderr, "bare_decode: prompt of %d tokens + %d does not fit a context of %d\n", n_prompt, n_gen,
                n_ctx);
        goto done;
    }

    double t0 = now_s();
    for (int i = 0; i < n_prompt; i += (int)cp.n_batch) {
        int k = n_prompt - i < (int)cp.n_batch ? n_prompt - i : (int)cp.n_batch;
        if (llama_decode(ctx, llama_batch_get_one(toks + i, k)) != 0) {
            fputs("bare_decode: prompt decode failed\n", stderr);
            goto done;
        }
    }
    double t1 = now_s();
    int n_done = 0;
    for (; n_done < n_gen; n_done++) {
        llama_token t = llama_sampler_sample(smpl, ctx, -1);
        if (!ignore_eos && llama_vocab_is_eog(vocab, t)) break;
        if (llama_decode(ctx, llama_batch_get_one(&t, 1)) != 0) {
            fputs("bare_decode: decode failed\n", stderr);
            goto done;
        }
    }
    double t2 = now_s();
    /* Each generated token costs one sample and one single-token decode. */
    double ptps = n_prompt / (t1 - t0), gtps = n_done > 0 ? n_done / (t2 - t1) : 0;
    printf("model %s, %d threads, %s threadpool\n", model_path, threads, tp ? "own (poll 0)" : "ggml's default");
    printf("prompt: %d tokens in %.1f ms (%.1f tokens/s)\n", n_prompt, (t1 - t0) * 1e3, ptps);
    printf("decode: %d tokens in %.1f ms (%.1f tokens/s)\n", n_done, (t2 - t1) * 1e3, gtps);
    printf("RESULT prompt_tokens=%d prompt_tps=%.2f gen_tokens=%d gen_tps=%.2f threads=%d model_bytes=%llu\n",
           n_prompt, ptps, n_done, gtps, threads, (unsigned long long)llama_model_size(model));
    rc = 0;
done:
    llama_sampler_free(smpl);
    free(toks);
    llama_free(ctx);
    if (tp) tp_free(tp);
    llama_model_free(model);
    return rc;
}
