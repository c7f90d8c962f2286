/* Strict UTF-8 validation (no overlongs, surrogates or code points past U+10FFFF). */
#ifndef SC_UTF8_H
#define SC_UTF8_H

#include <stddef.h>

int sc_utf8_valid(const char *s, size_t n);

#endif
