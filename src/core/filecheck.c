/* filecheck: the mime table and the content checks of filecheck.h. Each
 * accepted base type names one signature check; the checks look only at the
 * first IA_FILECHECK_HEAD bytes, except text, which is validated as UTF-8
 * over every byte fed. */
#include "core/filecheck.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

enum {
    SIG_NONE = 0, /* headerless: non-empty is all */
    SIG_L16,      /* headerless 16-bit PCM: non-empty, even length */
    SIG_TEXT,
    SIG_PNG, SIG_JPEG, SIG_GIF, SIG_WEBP, SIG_BMP, SIG_TIFF, SIG_HEIF,
    SIG_WAV, SIG_AIFF, SIG_MP3, SIG_AAC, SIG_OGG, SIG_FLAC, SIG_BMFF, SIG_EBML,
    SIG_MPEG, SIG_AVI, SIG_FLV, SIG_ASF, SIG_JP2, SIG_PDF, SIG_ZIP, SIG_OLE2,
};

/* What each signature is called in a FAILED message. */
static const char *const sig_what[] = {
    [SIG_NONE] = "any bytes",
    [SIG_L16] = "16-bit samples (an even number of bytes)",
    [SIG_TEXT] = "UTF-8 text",
    [SIG_PNG] = "the PNG signature (89 50 4E 47 0D 0A 1A 0A)",
    [SIG_JPEG] = "the JPEG start-of-image marker (FF D8 FF)",
    [SIG_GIF] = "the GIF signature (GIF87a or GIF89a)",
    [SIG_WEBP] = "a RIFF header of form WEBP",
    [SIG_BMP] = "the BMP signature (BM)",
    [SIG_TIFF] = "a TIFF header (II*\\0 or MM\\0*)",
    [SIG_HEIF] = "an ISO BMFF 'ftyp' box of a HEIF/HEIC brand",
    [SIG_WAV] = "a RIFF header of form WAVE",
    [SIG_AIFF] = "a FORM header of type AIFF or AIFC",
    [SIG_MP3] = "an ID3 tag or an MPEG audio frame sync",
    [SIG_AAC] = "an ADTS frame sync or an ADIF header",
    [SIG_OGG] = "the Ogg page signature (OggS)",
    [SIG_FLAC] = "the FLAC signature (fLaC)",
    [SIG_BMFF] = "an ISO BMFF box ('ftyp', or 'moov'/'mdat'/'wide'/'free' for QuickTime)",
    [SIG_EBML] = "an EBML (Matroska/WebM) header",
    [SIG_MPEG] = "an MPEG program stream pack, video sequence header or transport stream sync",
    [SIG_AVI] = "a RIFF header of form AVI",
    [SIG_FLV] = "the FLV signature",
    [SIG_ASF] = "the ASF header object (WMV)",
    [SIG_JP2] = "a JPEG 2000 signature box or codestream marker",
    [SIG_PDF] = "a '%PDF-' header within the first 1,024 bytes",
    [SIG_ZIP] = "a ZIP local file header (PK 03 04), as OOXML and OpenDocument files start",
    [SIG_OLE2] = "the OLE2 compound file signature (D0 CF 11 E0 A1 B1 1A E1)",
};

static const struct {
    const char *type;
    ia_media_kind kind;
    int sig;
} table[] = {
    {"image/png", IA_MEDIA_IMAGE, SIG_PNG},
    {"image/jpeg", IA_MEDIA_IMAGE, SIG_JPEG},
    {"image/jpg", IA_MEDIA_IMAGE, SIG_JPEG},
    {"image/webp", IA_MEDIA_IMAGE, SIG_WEBP},
    {"image/heic", IA_MEDIA_IMAGE, SIG_HEIF},
    {"image/heif", IA_MEDIA_IMAGE, SIG_HEIF},
    {"image/gif", IA_MEDIA_IMAGE, SIG_GIF},
    {"image/bmp", IA_MEDIA_IMAGE, SIG_BMP},
    {"image/tiff", IA_MEDIA_IMAGE, SIG_TIFF},
    {"audio/wav", IA_MEDIA_AUDIO, SIG_WAV},
    {"audio/x-wav", IA_MEDIA_AUDIO, SIG_WAV},
    {"audio/wave", IA_MEDIA_AUDIO, SIG_WAV},
    {"audio/vnd.wave", IA_MEDIA_AUDIO, SIG_WAV},
    {"audio/mp3", IA_MEDIA_AUDIO, SIG_MP3},
    {"audio/mpeg", IA_MEDIA_AUDIO, SIG_MP3},
    {"audio/aiff", IA_MEDIA_AUDIO, SIG_AIFF},
    {"audio/x-aiff", IA_MEDIA_AUDIO, SIG_AIFF},
    {"audio/aac", IA_MEDIA_AUDIO, SIG_AAC},
    {"audio/ogg", IA_MEDIA_AUDIO, SIG_OGG},
    {"audio/opus", IA_MEDIA_AUDIO, SIG_OGG},
    {"audio/flac", IA_MEDIA_AUDIO, SIG_FLAC},
    {"audio/x-flac", IA_MEDIA_AUDIO, SIG_FLAC},
    {"audio/m4a", IA_MEDIA_AUDIO, SIG_BMFF},
    {"audio/x-m4a", IA_MEDIA_AUDIO, SIG_BMFF},
    {"audio/mp4", IA_MEDIA_AUDIO, SIG_BMFF},
    {"audio/webm", IA_MEDIA_AUDIO, SIG_EBML},
    {"audio/l16", IA_MEDIA_AUDIO, SIG_L16},
    {"audio/alaw", IA_MEDIA_AUDIO, SIG_NONE},
    {"audio/mulaw", IA_MEDIA_AUDIO, SIG_NONE},
    {"video/mp4", IA_MEDIA_VIDEO, SIG_BMFF},
    {"video/mov", IA_MEDIA_VIDEO, SIG_BMFF},
    {"video/quicktime", IA_MEDIA_VIDEO, SIG_BMFF},
    {"video/3gpp", IA_MEDIA_VIDEO, SIG_BMFF},
    {"video/mpeg", IA_MEDIA_VIDEO, SIG_MPEG},
    {"video/mpg", IA_MEDIA_VIDEO, SIG_MPEG},
    {"video/avi", IA_MEDIA_VIDEO, SIG_AVI},
    {"video/x-msvideo", IA_MEDIA_VIDEO, SIG_AVI},
    {"video/x-flv", IA_MEDIA_VIDEO, SIG_FLV},
    {"video/webm", IA_MEDIA_VIDEO, SIG_EBML},
    {"video/wmv", IA_MEDIA_VIDEO, SIG_ASF},
    {"video/x-ms-wmv", IA_MEDIA_VIDEO, SIG_ASF},
    {"video/jpeg2000", IA_MEDIA_VIDEO, SIG_JP2},
    {"application/pdf", IA_MEDIA_DOCUMENT, SIG_PDF},
    {"application/vnd.openxmlformats-officedocument.wordprocessingml.document", IA_MEDIA_DOCUMENT, SIG_ZIP},
    {"application/vnd.openxmlformats-officedocument.wordprocessingml.template", IA_MEDIA_DOCUMENT, SIG_ZIP},
    {"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", IA_MEDIA_DOCUMENT, SIG_ZIP},
    {"application/vnd.openxmlformats-officedocument.presentationml.presentation", IA_MEDIA_DOCUMENT, SIG_ZIP},
    {"application/vnd.oasis.opendocument.text", IA_MEDIA_DOCUMENT, SIG_ZIP},
    {"application/vnd.oasis.opendocument.spreadsheet", IA_MEDIA_DOCUMENT, SIG_ZIP},
    {"application/vnd.oasis.opendocument.presentation", IA_MEDIA_DOCUMENT, SIG_ZIP},
    {"application/msword", IA_MEDIA_DOCUMENT, SIG_OLE2},
    {"application/vnd.ms-excel", IA_MEDIA_DOCUMENT, SIG_OLE2},
    {"application/vnd.ms-powerpoint", IA_MEDIA_DOCUMENT, SIG_OLE2},
    /* text beyond text/\*: what the guide's document section lists */
    {"application/json", IA_MEDIA_TEXT, SIG_TEXT},
    {"application/xml", IA_MEDIA_TEXT, SIG_TEXT},
    {"application/javascript", IA_MEDIA_TEXT, SIG_TEXT},
    {"application/x-javascript", IA_MEDIA_TEXT, SIG_TEXT},
    {"application/x-python", IA_MEDIA_TEXT, SIG_TEXT},
    {"application/x-python-code", IA_MEDIA_TEXT, SIG_TEXT},
    {"application/rtf", IA_MEDIA_TEXT, SIG_TEXT},
};
#define N_TABLE (sizeof table / sizeof *table)

const char *ia_filecheck_accepted(void) {
    return "image (png, jpeg, webp, heic, heif, gif, bmp, tiff), audio (wav, mp3, mpeg, aiff, aac, "
           "ogg, opus, flac, m4a, webm, l16, alaw, mulaw), video (mp4, mpeg, mpg, mov, avi, x-flv, "
           "webm, wmv, 3gpp, jpeg2000), application/pdf, Office and OpenDocument documents, and "
           "text (text/*, application/json, application/xml, JavaScript, Python)";
}

/* The lowercased base type of s: "type/subtype" of RFC 2045 token
 * characters, blanks around it and any ";parameters" dropped. */
static bool base_type(const char *s, char out[64]) {
    out[0] = '\0';
    if (!s) return false;
    while (*s == ' ' || *s == '\t') s++;
    size_t n = 0;
    int slashes = 0;
    for (; *s && *s != ';' && *s != ' ' && *s != '\t'; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '/') slashes++;
        else if (!(isalnum(ch) || strchr("!#$&-^_.+", ch))) return false;
        if (n + 1 >= 64) return false;
        out[n++] = (char)tolower(ch);
    }
    out[n] = '\0';
    while (*s == ' ' || *s == '\t') s++;
    if (*s && *s != ';') return false;
    const char *slash = strchr(out, '/');
    if (slashes != 1 || slash == out || !slash[1]) {
        out[0] = '\0';
        return false;
    }
    return true;
}

static int lookup(const char *base, ia_media_kind *kind) {
    for (size_t i = 0; i < N_TABLE; i++)
        if (!strcmp(table[i].type, base)) {
            *kind = table[i].kind;
            return table[i].sig;
        }
    if (!strncmp(base, "text/", 5)) {
        *kind = IA_MEDIA_TEXT;
        return SIG_TEXT;
    }
    *kind = IA_MEDIA_NONE;
    return SIG_NONE;
}

ia_media_kind ia_filecheck_kind(const char *s, char base[64]) {
    char tmp[64];
    char *b = base ? base : tmp;
    if (!base_type(s, b)) return IA_MEDIA_NONE;
    ia_media_kind k;
    lookup(b, &k);
    return k;
}

void ia_filecheck_init(ia_filecheck *c, const char *mime) {
    memset(c, 0, sizeof *c);
    c->bad_at = -1;
    c->lo = 0x80;
    c->hi = 0xBF;
    if (base_type(mime, c->base)) c->sig = lookup(c->base, &c->kind);
}

/* One byte of the UTF-8 check (the ranges of RFC 3629's table). */
static void utf8_byte(ia_filecheck *c, uint8_t b, int64_t at) {
    if (c->need == 0) {
        c->lo = 0x80, c->hi = 0xBF;
        if (b < 0x80) {
            if (b == 0) goto bad;
            return;
        }
        if (b >= 0xC2 && b <= 0xDF) c->need = 1;
        else if (b == 0xE0) c->need = 2, c->lo = 0xA0;
        else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) c->need = 2;
        else if (b == 0xED) c->need = 2, c->hi = 0x9F; /* no surrogates */
        else if (b == 0xF0) c->need = 3, c->lo = 0x90;
        else if (b >= 0xF1 && b <= 0xF3) c->need = 3;
        else if (b == 0xF4) c->need = 3, c->hi = 0x8F;
        else goto bad;
        return;
    }
    if (b < c->lo || b > c->hi) goto bad;
    c->need--;
    c->lo = 0x80, c->hi = 0xBF;
    return;
bad:
    c->bad_at = at;
    c->nul = b == 0;
}

void ia_filecheck_feed(ia_filecheck *c, const void *p, size_t n) {
    const uint8_t *b = p;
    if (c->head_len < IA_FILECHECK_HEAD) {
        size_t k = IA_FILECHECK_HEAD - c->head_len;
        if (k > n) k = n;
        memcpy(c->head + c->head_len, b, k);
        c->head_len += k;
    }
    if (c->sig == SIG_TEXT)
        for (size_t i = 0; i < n && c->bad_at < 0; i++) utf8_byte(c, b[i], c->total + (int64_t)i);
    c->total += (int64_t)n;
}

static bool at(const ia_filecheck *c, size_t off, const void *sig, size_t n) {
    return c->head_len >= off + n && !memcmp(c->head + off, sig, n);
}

/* A RIFF file of form f ("WAVE", "WEBP", "AVI "). */
static bool riff(const ia_filecheck *c, const char *f) { return at(c, 0, "RIFF", 4) && at(c, 8, f, 4); }

/* An ISO BMFF box type at offset 4 (the first box's type). */
static bool bmff(const ia_filecheck *c) {
    static const char *const first[] = {"ftyp", "moov", "mdat", "wide", "free", "skip", "pnot"};
    for (size_t i = 0; i < sizeof first / sizeof *first; i++)
        if (at(c, 4, first[i], 4)) return true;
    return false;
}

static bool heif(const ia_filecheck *c) {
    static const char *const brands[] = {"heic", "heix", "hevc", "hevx", "heim", "heis",
                                         "hevm", "hevs", "mif1", "msf1", "avif"};
    if (!at(c, 4, "ftyp", 4)) return false;
    for (size_t i = 0; i < sizeof brands / sizeof *brands; i++)
        if (at(c, 8, brands[i], 4)) return true;
    return false;
}

static bool sig_ok(const ia_filecheck *c) {
    const uint8_t *h = c->head;
    size_t n = c->head_len;
    switch (c->sig) {
    case SIG_NONE: return true;
    case SIG_L16: return c->total % 2 == 0;
    case SIG_TEXT: return c->bad_at < 0 && c->need == 0;
    case SIG_PNG: return at(c, 0, "\x89PNG\r\n\x1a\n", 8);
    case SIG_JPEG: return at(c, 0, "\xFF\xD8\xFF", 3);
    case SIG_GIF: return at(c, 0, "GIF87a", 6) || at(c, 0, "GIF89a", 6);
    case SIG_WEBP: return riff(c, "WEBP");
    case SIG_BMP: return at(c, 0, "BM", 2) && n >= 14;
    case SIG_TIFF: return at(c, 0, "II*\0", 4) || at(c, 0, "MM\0*", 4);
    case SIG_HEIF: return heif(c);
    case SIG_WAV: return riff(c, "WAVE");
    case SIG_AIFF: return at(c, 0, "FORM", 4) && (at(c, 8, "AIFF", 4) || at(c, 8, "AIFC", 4));
    case SIG_MP3: return at(c, 0, "ID3", 3) || (n >= 2 && h[0] == 0xFF && (h[1] & 0xE0) == 0xE0);
    case SIG_AAC: return at(c, 0, "ADIF", 4) || (n >= 2 && h[0] == 0xFF && (h[1] & 0xF6) == 0xF0);
    case SIG_OGG: return at(c, 0, "OggS", 4);
    case SIG_FLAC: return at(c, 0, "fLaC", 4);
    case SIG_BMFF: return bmff(c);
    case SIG_EBML: return at(c, 0, "\x1A\x45\xDF\xA3", 4);
    case SIG_MPEG:
        return at(c, 0, "\0\0\x01\xBA", 4) || at(c, 0, "\0\0\x01\xB3", 4) ||
               (n >= 1 && h[0] == 0x47 && (n <= 188 || h[188] == 0x47));
    case SIG_AVI: return riff(c, "AVI ");
    case SIG_FLV: return at(c, 0, "FLV\x01", 4);
    case SIG_ASF: return at(c, 0, "\x30\x26\xB2\x75\x8E\x66\xCF\x11", 8);
    case SIG_JP2: return at(c, 0, "\0\0\0\x0CjP  \r\n\x87\n", 12) || at(c, 0, "\xFF\x4F\xFF\x51", 4);
    case SIG_PDF:
        for (size_t i = 0; i + 5 <= n && i <= 1024; i++)
            if (!memcmp(h + i, "%PDF-", 5)) return true;
        return false;
    case SIG_ZIP: return at(c, 0, "PK\x03\x04", 4);
    case SIG_OLE2: return at(c, 0, "\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1", 8);
    default: return false;
    }
}

int ia_filecheck_finish(ia_filecheck *c, char *msg, size_t cap) {
    if (c->kind == IA_MEDIA_NONE) {
        snprintf(msg, cap, "mime type '%s' is not one this server accepts", c->base);
        return -1;
    }
    if (c->total == 0) {
        snprintf(msg, cap, "the file is empty");
        return -1;
    }
    if (sig_ok(c)) return 0;
    if (c->sig == SIG_TEXT) {
        if (c->bad_at < 0)
            snprintf(msg, cap, "the content is not %s: it is not valid UTF-8 (it ends inside a character)",
                     c->base);
        else
            snprintf(msg, cap, "the content is not %s: %s at byte %lld (text must be UTF-8 without NUL bytes)",
                     c->base, c->nul ? "a NUL byte" : "invalid UTF-8", (long long)c->bad_at);
        return -1;
    }
    snprintf(msg, cap, "the content is not %s: it does not start with %s; upload it with the mime "
             "type of what it is", c->base, sig_what[c->sig]);
    return -1;
}
