/* Runs the MIME encoders on stdin for test_encoders_python.py, which holds
 * them to Python's own base64, quopri and UTF-8 codecs.
 *
 *   encoder_probe base64|qp|text CHUNK   stdin encoded to stdout, fed CHUNK
 *                                        bytes per update (0: all at once)
 *   encoder_probe size base64|qp|text    the size function's answer for stdin
 *   encoder_probe scan CHUNK             the scan counters and the choices
 *   encoder_probe type NAME...           one content type per line
 *
 * Exit status 0, or 2 for bad usage or a failed call. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mime/encoders.h"

static int usage(void)
{
    fputs("usage: encoder_probe base64|qp|text CHUNK | size base64|qp|text | scan CHUNK | type NAME...\n", stderr);
    return 2;
}

static int read_all(sc_buf *in)
{
    for (;;) {
        char *dst = sc_buf_reserve(in, 65536);
        if (!dst)
            return -1;
        size_t got = fread(dst, 1, 65536, stdin);
        sc_buf_commit(in, got);
        if (got == 0)
            return ferror(stdin) ? -1 : 0;
    }
}

static int flush_out(sc_buf *out)
{
    size_t n = sc_buf_size(out);
    if (n && fwrite(sc_buf_ptr(out), 1, n, stdout) != n)
        return -1;
    sc_buf_reset(out);
    return 0;
}

static int encode(const char *kind, size_t chunk, const char *data, size_t len)
{
    mime_b64_enc b;
    mime_qp_enc q;
    mime_text_enc t;
    mime_b64_enc_init(&b);
    mime_qp_enc_init(&q);
    mime_text_enc_init(&t);
    sc_buf out;
    sc_buf_init(&out);
    if (chunk == 0)
        chunk = len ? len : 1;
    int rc = 0;
    for (size_t pos = 0; pos < len && rc == 0; pos += chunk) {
        size_t n = len - pos < chunk ? len - pos : chunk;
        if (!strcmp(kind, "base64"))
            rc = mime_b64_enc_update(&b, data + pos, n, &out);
        else if (!strcmp(kind, "qp"))
            rc = mime_qp_enc_update(&q, data + pos, n, &out);
        else
            rc = mime_text_enc_update(&t, data + pos, n, &out);
        if (rc == 0)
            rc = flush_out(&out);
    }
    if (rc == 0) {
        if (!strcmp(kind, "base64"))
            rc = mime_b64_enc_finish(&b, &out);
        else if (!strcmp(kind, "qp"))
            rc = mime_qp_enc_finish(&q, &out);
        else
            rc = mime_text_enc_finish(&t, &out);
    }
    if (rc == 0)
        rc = flush_out(&out);
    sc_buf_free(&out);
    return rc;
}

static int scan(size_t chunk, const char *data, size_t len)
{
    mime_scan s;
    mime_scan_init(&s);
    if (chunk == 0)
        chunk = len ? len : 1;
    for (size_t pos = 0; pos < len; pos += chunk)
        mime_scan_update(&s, data + pos, len - pos < chunk ? len - pos : chunk);
    mime_scan_finish(&s);
    printf("bytes=%llu non_ascii=%llu controls=%llu lines=%llu longest_line=%llu bare_cr_or_lf=%d valid_utf8=%d "
           "text=%s text_8bit=%s other=%s\n",
           (unsigned long long)s.bytes, (unsigned long long)s.non_ascii, (unsigned long long)s.controls,
           (unsigned long long)s.lines, (unsigned long long)s.longest_line, s.bare_cr_or_lf, s.valid_utf8,
           mime_cte_name(mime_choose_cte(&s, 1, 0)), mime_cte_name(mime_choose_cte(&s, 1, 1)),
           mime_cte_name(mime_choose_cte(&s, 0, 1)));
    return 0;
}

static int is_kind(const char *k) { return !strcmp(k, "base64") || !strcmp(k, "qp") || !strcmp(k, "text"); }

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    if (!strcmp(argv[1], "type")) {
        for (int i = 2; i < argc; i++)
            printf("%s\n", mime_type_for_filename(argv[i]));
        return 0;
    }
    if (argc != 3 || !(is_kind(argv[1]) || !strcmp(argv[1], "size") || !strcmp(argv[1], "scan")))
        return usage();
    if (!strcmp(argv[1], "size") && !is_kind(argv[2]))
        return usage();
    sc_buf in;
    sc_buf_init(&in);
    if (read_all(&in) < 0) {
        perror("encoder_probe: reading stdin");
        return 2;
    }
    const char *data = sc_buf_ptr(&in);
    size_t len = sc_buf_size(&in);
    int rc;
    if (!strcmp(argv[1], "size")) {
        uint64_t n = !strcmp(argv[2], "base64") ? mime_b64_encoded_size(len)
                     : !strcmp(argv[2], "qp")   ? mime_qp_encoded_size(data, len)
                                                : mime_text_encoded_size(data, len);
        rc = printf("%llu\n", (unsigned long long)n) < 0 ? -1 : 0;
    } else {
        size_t chunk = (size_t)strtoull(argv[2], NULL, 10);
        rc = !strcmp(argv[1], "scan") ? scan(chunk, data, len) : encode(argv[1], chunk, data, len);
    }
    sc_buf_free(&in);
    if (fflush(stdout) != 0 || rc < 0) {
        fputs("encoder_probe: failed\n", stderr);
        return 2;
    }
    return 0;
}
