#include "smtp/body_encoder.h"

#include <string.h>

void smtp_body_encoder_init(smtp_body_encoder *e, int dot_stuff)
{
    memset(e, 0, sizeof *e);
    e->dot_stuff = dot_stuff;
    e->at_line_start = 1;
}

int smtp_body_encoder_write(smtp_body_encoder *e, const char *data, size_t n, sc_buf *out)
{
    /* Worst case every input byte becomes two ("." -> "..", LF -> CRLF, CR -> CRLF). */
    char *dst = sc_buf_reserve(out, 2 * n + 2);
    if (!dst)
        return -1;
    char *o = dst;
    size_t i = 0;
    e->bytes_in += n;
    if (e->pending_cr && n) {
        /* The CR that ended the previous chunk has been written as CRLF
         * already; a LF right after it belongs to that line end. */
        e->pending_cr = 0;
        if (data[0] == '\n')
            i = 1;
    }
    while (i < n) {
        if (e->at_line_start) {
            e->at_line_start = 0;
            if (e->dot_stuff && data[i] == '.')
                *o++ = '.';
        }
        /* Copy the run up to the next CR or LF in one go. */
        size_t j = i;
        while (j < n && data[j] != '\r' && data[j] != '\n')
            j++;
        memcpy(o, data + i, j - i);
        o += j - i;
        if (j == n) {
            /* i stays the count of input bytes consumed. NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores) */
            i = j;
            break;
        }
        *o++ = '\r';
        *o++ = '\n';
        e->at_line_start = 1;
        if (data[j] == '\r') {
            if (j + 1 == n) {
                e->pending_cr = 1;
                /* i stays the count of input bytes consumed. NOLINTNEXTLINE(clang-analyzer-deadcode.DeadStores) */
                i = n;
                break;
            }
            i = data[j + 1] == '\n' ? j + 2 : j + 1;
        } else {
            i = j + 1;
        }
    }
    size_t produced = (size_t)(o - dst);
    sc_buf_commit(out, produced);
    e->bytes_out += produced;
    return 0;
}

int smtp_body_encoder_finish(smtp_body_encoder *e, sc_buf *out)
{
    e->pending_cr = 0;
    if (!e->at_line_start) {
        if (sc_buf_append(out, "\r\n", 2) < 0)
            return -1;
        e->bytes_out += 2;
        e->at_line_start = 1;
    }
    if (e->dot_stuff && sc_buf_append(out, ".\r\n", 3) < 0)
        return -1;
    return 0;
}
