/*
 * GNU coreutils timeout's readings and spellings, for the drop-in front end
 * (ctxrun timeout, cmd/timeout.c) and the messages it shares with ctxrun.
 * Public, beside lib/ctxrun.h.
 */
#ifndef CTXRUN_GNU_H
#define CTXRUN_GNU_H

#include "ctxrun.h"

/* GNU timeout's DURATION: a number as strtod reads it (also hex and inf)
 * and at most one suffix s, m, h or d.  Huge values are clamped, a positive
 * value too small for a nanosecond is rounded up to one; negative, NaN and
 * junk are refused. */
int parse_gnu_duration(const char *s, int64_t *ns, ctx_err *err);

/* gnulib's quote() in the C locale: it's is shown as 'it\'s', a
 * control or non-ASCII byte as \n or \342.  Writes at most len bytes
 * with the NUL; returns the length wanted, as snprintf does. */
size_t gnu_quote(const char *s, char *buf, size_t len);
/* coreutils' operand2sig: a name in any case with or without SIG (EXIT is
 * 0; RTMIN+n, RTMAX-n), or a number, 128+N and 256+N read as N; only
 * signals the system has (not 32 or 33 on glibc).  0 or -1. */
int parse_gnu_signal(const char *s, int *sig);
/* gnulib's sig2str: "TERM", "EXIT" for 0, "POLL" for 29, "RTMIN+n" for
 * the lower half of the real-time signals and "RTMAX-n" for the upper;
 * NULL when sig has no name.  buf >= 16 bytes. */
const char *gnu_signal_name(int sig, char *buf, size_t len);

#endif
