/* Freeing strings that held secrets (passwords, tokens, AUTH lines). */
#ifndef SC_SECRET_H
#define SC_SECRET_H

/* Overwrite a NUL-terminated secret (in a way the compiler cannot drop) and free it. NULL is fine. */
void sc_secret_free(char *s);

#endif
