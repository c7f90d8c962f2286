/* Shared by the C bench programs: options, clocks, files, results. */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct bench_opts {
    const char *scenario;
    const char *host;
    int port;
    long count;
    double max_seconds;
    long rcpts;
    int threads, connections;
    const char *message;   /* file with a pre-composed message */
    const char *attach;    /* attachment file */
    const char *ca_file, *user, *password;
    const char *mode;      /* limit client: rfc | all */
    int chunking;          /* -1 default, 0 off, 1 on */
    int compose;           /* send_message (compose each time) instead of send_bytes */
    long batch;            /* messages per batch call (pipelined across messages); 0: one call each */
} bench_opts;

static inline double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Peak and current resident set of this process, in MB (from /proc). */
static inline double proc_status_mb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double mb = 0;
    size_t n = strlen(field);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, n) && line[n] == ':')
            mb = atof(line + n + 1) / 1024.0;
    if (f)
        fclose(f);
    return mb;
}

static inline char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (!p || fread(p, 1, (size_t)n, f) != (size_t)n) {
        perror(path);
        exit(1);
    }
    p[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return p;
}

static inline void parse_opts(int argc, char **argv, bench_opts *o)
{
    memset(o, 0, sizeof *o);
    o->host = "127.0.0.1";
    o->count = 1;
    o->max_seconds = 1e9;
    o->rcpts = 1;
    o->threads = 1;
    o->connections = 1;
    o->chunking = -1;
    o->mode = "rfc";
    if (argc < 2) {
        fprintf(stderr, "usage: %s SCENARIO [--host H] [--port P] [--count N] ...\n", argv[0]);
        exit(2);
    }
    o->scenario = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *k = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name) (!strcmp(k, name) && v && (i++, 1))
        if (OPT("--host")) o->host = v;
        else if (OPT("--port")) o->port = atoi(v);
        else if (OPT("--count")) o->count = atol(v);
        else if (OPT("--max-seconds")) o->max_seconds = atof(v);
        else if (OPT("--rcpts")) o->rcpts = atol(v);
        else if (OPT("--threads")) o->threads = atoi(v);
        else if (OPT("--connections")) o->connections = atoi(v);
        else if (OPT("--message")) o->message = v;
        else if (OPT("--attach")) o->attach = v;
        else if (OPT("--ca-file")) o->ca_file = v;
        else if (OPT("--user")) o->user = v;
        else if (OPT("--password")) o->password = v;
        else if (OPT("--mode")) o->mode = v;
        else if (OPT("--chunking")) o->chunking = atoi(v);
        else if (!strcmp(k, "--compose")) o->compose = 1;
        else if (OPT("--batch")) o->batch = atol(v);
        else if (OPT("--window")) continue; /* the limit client reads it itself */
        else {
            fprintf(stderr, "unknown option %s\n", k);
            exit(2);
        }
#undef OPT
    }
}

/* One JSON line: what every bench client prints last. */
static inline void print_result(long count, double t0, double t1, double rss_start, const char *extra)
{
    printf("{\"count\":%ld,\"seconds\":%.6f,\"t0\":%.6f,\"t1\":%.6f,\"rss_mb\":%.2f,\"rss_start_mb\":%.2f%s%s}\n",
           count, t1 - t0, t0, t1, proc_status_mb("VmHWM"), rss_start, extra && *extra ? "," : "",
           extra ? extra : "");
    fflush(stdout);
}

#endif
