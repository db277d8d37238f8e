/*
 * GNU coreutils timeout's own readings and spellings, for ctxrun timeout
 * (cmd/timeout.c): its durations (strtod and one unit letter), gnulib's
 * quoting of an argument and its signal names.  Kept apart from parse.c
 * because they copy another program's behaviour, quirks included, and
 * change only when that program's does; ctxrun's own forms are in parse.c.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "gnu.h"
#include "internal.h"

int
parse_gnu_duration(const char *s, int64_t *out, ctx_err *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	bool underflow = errno == ERANGE && fabs(v) < 1;
	/* Underflow (ERANGE with a tiny result) keeps its sign: a positive
	 * value all the same, a negative one (" -1e-10000", read as -0.0)
	 * still negative; a plain -0 is zero.  Overflow gives HUGE_VAL,
	 * clamped below. */
	if (end == s || !(v >= 0) || (underflow && signbit(v)) ||
	    (end[0] != '\0' && end[1] != '\0'))
		goto bad;
	switch (*end) {
	case '\0': case 's': break;
	case 'm': v *= 60; break;
	case 'h': v *= 3600; break;
	case 'd': v *= 86400; break;
	default: goto bad;
	}
	/* Rounded up to the next nanosecond, as GNU rounds up to the clock's
	 * resolution; too large, the latest deadline the clock holds (292
	 * years), as for ctxrun's own durations. */
	v = ceil(v * 1e9);
	*out = v >= 9.2e18 ? CTX_LATEST : (int64_t)v;
	if (*out == 0 && underflow)
		*out = 1;	/* too small to represent: still times out */
	return 0;
bad:
	return ctx_fail(err, "invalid time interval '%s'", s);
}

/*
 * An argument as gnulib's quote() shows it in the C locale: in single
 * quotes, with a backslash before a quote or a backslash, \a \b \t \n \v \f
 * \r for those controls and three octal digits for any other byte that is
 * not printable ASCII.  snprintf's contract: returns the length wanted.
 */
size_t
gnu_quote(const char *s, char *buf, size_t len)
{
	static const char named[] = "\aa\bb\tt\nn\vv\ff\rr";
	size_t n = 0;
	char esc[5];

#define PUT(c) do { if (n + 1 < len) buf[n] = (c); n++; } while (0)
	PUT('\'');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		const char *e = NULL;
		if (*p == '\'' || *p == '\\') {
			esc[0] = '\\', esc[1] = (char)*p, esc[2] = '\0';
			e = esc;
		} else if (*p != 0 && *p < 0x20 && strchr(named, *p) != NULL) {
			esc[0] = '\\', esc[1] = strchr(named, *p)[1], esc[2] = '\0';
			e = esc;
		} else if (*p < 0x20 || *p >= 0x7f) {
			snprintf(esc, sizeof(esc), "\\%03o", *p);
			e = esc;
		}
		if (e == NULL)
			PUT((char)*p);
		else
			for (; *e; e++)
				PUT(*e);
	}
	PUT('\'');
#undef PUT
	if (len > 0)
		buf[n < len ? n : len - 1] = '\0';
	return n;
}

/* gnulib's sig2str table for Linux, preferred names first (so 29 is POLL
 * and 6 is ABRT), and EXIT for 0 as shells name it. */
static const struct {
	const char *name;
	int sig;
} gnu_signames[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "FPE", SIGFPE }, { "KILL", SIGKILL }, { "SEGV", SIGSEGV },
	{ "BUS", SIGBUS }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM },
	{ "TERM", SIGTERM }, { "USR1", SIGUSR1 }, { "USR2", SIGUSR2 },
	{ "CHLD", SIGCHLD }, { "URG", SIGURG }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "CONT", SIGCONT }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "SYS", SIGSYS }, { "POLL", SIGPOLL },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ }, { "IOT", SIGIOT }, { "CLD", SIGCHLD },
	{ "PWR", SIGPWR }, { "WINCH", SIGWINCH }, { "IO", SIGIO },
	{ "STKFLT", SIGSTKFLT }, { "EXIT", 0 },
};

const char *
gnu_signal_name(int sig, char *buf, size_t len)
{
	int mid = SIGRTMIN + (SIGRTMAX - SIGRTMIN) / 2;

	for (size_t i = 0; i < sizeof(gnu_signames) / sizeof(gnu_signames[0]); i++)
		if (gnu_signames[i].sig == sig) {
			snprintf(buf, len, "%s", gnu_signames[i].name);
			return buf;
		}
	if (sig == SIGRTMIN)
		snprintf(buf, len, "RTMIN");
	else if (sig > SIGRTMIN && sig <= mid)
		snprintf(buf, len, "RTMIN+%d", sig - SIGRTMIN);
	else if (sig > mid && sig < SIGRTMAX)
		snprintf(buf, len, "RTMAX-%d", SIGRTMAX - sig);
	else if (sig == SIGRTMAX)
		snprintf(buf, len, "RTMAX");
	else
		return NULL;
	return buf;
}

/* strtol in base 10 over the whole of s: leading blanks and a sign are
 * accepted, as strtol does; *ok false on junk or overflow. */
static long
whole_strtol(const char *s, bool *ok)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	*ok = end != s && *end == '\0' && errno == 0;
	return v;
}

/* gnulib's str2sig on a name already free of case: a table name, digits,
 * or RTMIN/RTMAX followed by what strtol reads as an offset in range. */
static int
gnu_str2sig(const char *n)
{
	bool ok;
	long v;

	if (isdigit((unsigned char)*n)) {
		v = whole_strtol(n, &ok);
		return ok && v <= SIGRTMAX ? (int)v : -1;
	}
	for (size_t i = 0; i < sizeof(gnu_signames) / sizeof(gnu_signames[0]); i++)
		if (strcasecmp(n, gnu_signames[i].name) == 0)
			return gnu_signames[i].sig;
	if (strncasecmp(n, "RTMIN", 5) == 0) {
		/* "RTMIN" alone: strtol of "" reads 0 without moving. */
		v = n[5] == '\0' ? 0 : whole_strtol(n + 5, &ok);
		if ((n[5] == '\0' || ok) && v >= 0 && v <= SIGRTMAX - SIGRTMIN)
			return SIGRTMIN + (int)v;
	} else if (strncasecmp(n, "RTMAX", 5) == 0) {
		v = n[5] == '\0' ? 0 : whole_strtol(n + 5, &ok);
		if ((n[5] == '\0' || ok) && v <= 0 && v >= SIGRTMIN - SIGRTMAX)
			return SIGRTMAX + (int)v;
	}
	return -1;
}

int
parse_gnu_signal(const char *s, int *sig)
{
	char name[16];
	int v = -1;

	if (isdigit((unsigned char)*s)) {
		/* A shell's $? for a signal: 128+N (or 256+N in ksh) is N. */
		bool ok;
		long l = whole_strtol(s, &ok);
		if (ok && l <= INT_MAX)
			v = (int)l & (l >= 0xff ? 0xff : 0x7f);
	} else if ((v = gnu_str2sig(s)) < 0 && strncasecmp(s, "SIG", 3) == 0)
		v = gnu_str2sig(s + 3);
	if (v < 0 || gnu_signal_name(v, name, sizeof(name)) == NULL)
		return -1;
	*sig = v;
	return 0;
}
