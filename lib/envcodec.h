/*
 * The encoding of a context level in the environment (envcodec.c): its
 * limits and the percent-encoding of values.  Private to lib/ and its tests.
 */
#ifndef CTXRUN_ENVCODEC_H
#define CTXRUN_ENVCODEC_H

#include "ctxrun.h"

/* The deepest nesting ctx_from_env accepts (CTXRUN_DEPTH), and so the
 * deepest context a ctxrun may create. */
#define CTX_MAX_DEPTH 64
/* The kernel's MAX_ARG_STRLEN: the longest argument or environment string
 * execve takes, its NUL included (32 pages); longer ones fail with E2BIG. */
#define CTX_ENV_STRING_MAX (32 * 4096)

/* Percent-encoding of arbitrary bytes into [A-Za-z0-9._~/:@+,-] and %XX. */
char *pct_encode(const char *s, size_t len);
/* Decodes into a new string; -1 on bad escapes or an embedded NUL. */
int pct_decode(const char *s, size_t len, char **out);

/* One level, the value s of variable var, into c (an inherited node); a
 * wall-clock deadline from another boot is converted through wall_offset().
 * -1 with a reason naming var. */
int decode_level(const char *var, const char *s, struct ctx *c, ctx_err *err);

#endif
