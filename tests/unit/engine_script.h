/* Scripted-server helpers shared by the engine's unit tests: an engine
 * with a transcript, server bytes fed as strings, exact checks of what the
 * client wrote, and envelopes with numbered recipients. Include once per
 * test program. */
#ifndef ENGINE_SCRIPT_H
#define ENGINE_SCRIPT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smtp/engine.h"
#include "testlib.h"
#include "util/buf.h"

static sc_buf g_transcript;

static inline void on_transcript(void *ud, smtpcore_dir dir, const char *line, size_t len)
{
    (void)ud;
    sc_buf_append_str(&g_transcript, dir == SMTPCORE_DIR_CLIENT ? "C: " : dir == SMTPCORE_DIR_SERVER ? "S: " : "I: ");
    sc_buf_append(&g_transcript, line, len);
    sc_buf_append(&g_transcript, "\n", 1);
}

/* The transcript so far as a C string. */
static inline const char *transcript_text(void)
{
    sc_buf_append(&g_transcript, "", 1);
    g_transcript.len--;
    return sc_buf_ptr(&g_transcript);
}

static inline smtp_engine_opts base_opts(smtpcore_security sec)
{
    smtp_engine_opts o = {
        .security = sec,
        .ehlo_name = "client.test",
        .use_pipelining = 1,
        .use_chunking = 1,
        .transcript = on_transcript,
    };
    sc_buf_reset(&g_transcript);
    return o;
}

static inline smtp_engine *new_engine(const smtp_engine_opts *o, int tls)
{
    smtpcore_error err = {0};
    smtp_engine *e = smtp_engine_new(o, tls, &err);
    smtpcore_error_clear(&err);
    return e;
}

static inline void srv(smtp_engine *e, const char *s) { smtp_engine_feed(e, s, strlen(s)); }

/* The client's pending output must be exactly `expected`; consume it. */
#define OUT_IS(e, expected) \
    do { size_t out_n_; const char *out_p_ = smtp_engine_output((e), &out_n_); \
         CHECK_MEM_EQ(out_p_, out_n_, (expected), strlen(expected)); smtp_engine_consume_output((e), out_n_); } while (0)

#define EHLO_CAPS "250-server.test\r\n250-PIPELINING\r\n250-SIZE 1000000\r\n250-8BITMIME\r\n250-DSN\r\n" \
                  "250-ENHANCEDSTATUSCODES\r\n250-AUTH PLAIN LOGIN\r\n250 SMTPUTF8\r\n"

/* Greeting and EHLO on a server without TLS, security none: ready. */
static inline smtp_engine *open_plain(const char *ehlo_reply, smtp_engine_opts *o)
{
    smtp_engine *e = new_engine(o, 0);
    if (!e)
        return NULL;
    CHECK_INT_EQ(smtp_engine_want(e), SMTP_WANT_READ);
    OUT_IS(e, "");
    srv(e, "220 server.test ESMTP\r\n");
    OUT_IS(e, "EHLO client.test\r\n");
    srv(e, ehlo_reply);
    return e;
}

typedef struct env_fixture {
    smtpcore_recipient r[200];
    char names[200][40];
    smtpcore_envelope env;
} env_fixture;

static inline void make_env(env_fixture *f, size_t n)
{
    memset(f, 0, sizeof *f);
    for (size_t i = 0; i < n; i++) {
        snprintf(f->names[i], sizeof f->names[i], "rcpt%zu@example.test", i);
        f->r[i].address = f->names[i];
    }
    f->env.sender = "sender@example.test";
    f->env.recipients = f->r;
    f->env.n_recipients = n;
    f->env.all_or_nothing = -1;
}

#endif
