/* avtrack.c: a video's audio track as WAV, through Debian's ffmpeg
 * (avtrack.h). The bytes go to a private temporary file (an MP4's index
 * may sit at its end, which a pipe cannot seek to), ffmpeg writes 16-bit
 * mono PCM at the asked rate to a pipe, and the child is killed past a
 * time limit or an output cap, so a hostile file costs bounded time. */
#include "core/avtrack.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/util.h"

extern char **environ;

#define TIME_LIMIT_MS 60000
#define OUT_CAP ((size_t)256 << 20) /* over two hours at 16 kHz */

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads the child's output until EOF, the cap or the deadline. */
static int read_out(int fd, ia_buf *out, int64_t deadline) {
    char buf[65536];
    for (;;) {
        int64_t left = deadline - ia_mono_ms();
        if (left <= 0) return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return 0;
        if (out->len + (size_t)n > OUT_CAP) return -1;
        ia_buf_append(out, buf, (size_t)n);
    }
}

/* Runs ffmpeg on a temporary copy of data with the input options `pre`
 * (before -i) and output options `post`, collecting its stdout. */
static int run_ffmpeg(const uint8_t *data, size_t len, const char *const *pre, const char *const *post,
                      uint8_t **out_data, size_t *out_len, const char *field, const char *what, ia_err *err) {
    *out_data = NULL;
    *out_len = 0;
    const char *dir = getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char *path = ia_asprintf("%s/interactd-media-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0 || write_all(fd, data, len) < 0) {
        if (fd >= 0) close(fd);
        unlink(path);
        free(path);
        return ia_fail(err, IA_EINTERNAL, "%s: cannot stage the %s for ffmpeg: %s", field, what, strerror(errno));
    }
    close(fd);
    const char *argv[40];
    int n = 0;
    const char *head[] = {"ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error"};
    for (size_t i = 0; i < sizeof head / sizeof *head; i++) argv[n++] = head[i];
    for (size_t i = 0; pre && pre[i] && n < 30; i++) argv[n++] = pre[i];
    argv[n++] = "-i";
    argv[n++] = path;
    for (size_t i = 0; post && post[i] && n < 38; i++) argv[n++] = post[i];
    argv[n++] = "pipe:1";
    argv[n] = NULL;
    int pfd[2];
    pid_t pid = -1;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    int rc = -1;
    if (pipe2(pfd, O_CLOEXEC) == 0) {
        posix_spawn_file_actions_adddup2(&fa, pfd[1], 1);
        posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
        posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
        if (posix_spawnp(&pid, "ffmpeg", &fa, NULL, (char *const *)argv, environ) != 0) pid = -1;
        close(pfd[1]);
        ia_buf out;
        ia_buf_init(&out, 0);
        int got = pid > 0 ? read_out(pfd[0], &out, ia_mono_ms() + TIME_LIMIT_MS) : -1;
        close(pfd[0]);
        int status = 0;
        if (pid > 0) {
            if (got < 0) kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        }
        if (pid <= 0) {
            ia_fail(err, IA_EINTERNAL, "%s: cannot run ffmpeg for the %s (is it installed?)", field, what);
        } else if (got < 0) {
            ia_fail(err, IA_EINVALID, "%s: the %s takes too long or too much to decode", field, what);
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || out.len == 0) {
            rc = 1; /* nothing ffmpeg could read */
        } else {
            *out_len = out.len;
            *out_data = (uint8_t *)ia_buf_take(&out);
            rc = 0;
        }
        ia_buf_free(&out);
    } else {
        ia_fail(err, IA_EINTERNAL, "%s: cannot make a pipe: %s", field, strerror(errno));
    }
    posix_spawn_file_actions_destroy(&fa);
    unlink(path);
    free(path);
    return rc;
}

int ia_audio_track(const uint8_t *data, size_t len, int rate, uint8_t **wav, size_t *wlen, const char *field,
                   ia_err *err) {
    char ar[16];
    snprintf(ar, sizeof ar, "%d", rate > 0 ? rate : 16000);
    const char *post[] = {"-vn", "-ac", "1", "-ar", ar, "-c:a", "pcm_s16le", "-f", "wav", NULL};
    int rc = run_ffmpeg(data, len, NULL, post, wav, wlen, field, "video's audio track", err);
    if (rc == 0 && *wlen <= 44) { /* a header and no samples: no track */
        free(*wav);
        *wav = NULL;
        *wlen = 0;
        rc = 1;
    }
    return rc;
}

int ia_ffmpeg_convert(const uint8_t *data, size_t len, const char *in_format, int in_rate, int in_channels, bool image,
                      uint8_t **out, size_t *out_len, const char *field, ia_err *err) {
    char ar[16], ac[16];
    snprintf(ar, sizeof ar, "%d", in_rate > 0 ? in_rate : 16000);
    snprintf(ac, sizeof ac, "%d", in_channels > 0 ? in_channels : 1);
    const char *raw[] = {"-f", in_format, "-ar", ar, "-ac", ac, NULL};
    const char *post_audio[] = {"-vn", "-ac", "1", "-ar", "16000", "-c:a", "pcm_s16le", "-f", "wav", NULL};
    const char *post_image[] = {"-frames:v", "1", "-f", "image2pipe", "-c:v", "png", NULL};
    return run_ffmpeg(data, len, in_format ? raw : NULL, image ? post_image : post_audio, out, out_len, field,
                      image ? "image" : "audio", err);
}
