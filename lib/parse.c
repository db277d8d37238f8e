/*
 * Parsers and printers for what users type: durations, signal names,
 * identifiers (the keys of values), --retry-on lists, and ctx_fail, the
 * error helper of every parser.  Pure functions over strings; no
 * allocation, no globals.  Instants and the calendar are in instant.c,
 * GNU timeout's own forms in gnu.c.
 */
#include <ctype.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

int
ctx_fail(ctx_err *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static const struct {
	const char *name;
	int64_t ns;
} units[] = {
	{ "ns", 1 },
	{ "us", 1000 },
	{ "\xc2\xb5s", 1000 },	/* U+00B5 micro sign, as Go prints it */
	{ "\xce\xbcs", 1000 },	/* U+03BC greek mu, as Go also accepts */
	{ "ms", NS_PER_MS },
	{ "s", NS_PER_SEC },
	{ "m", 60 * NS_PER_SEC },
	{ "h", 3600 * NS_PER_SEC },
	{ "d", 86400 * NS_PER_SEC },
};

/* Reads digits into an __int128 fraction numerator and its scale; digits
 * beyond 19 add nothing measurable and are dropped (as Go does), but
 * *nonzero still tells whether any of them was not 0. */
static const char *
read_digits(const char *p, __int128 *v, __int128 *scale, int *ndigits,
    bool *nonzero)
{
	for (; isdigit((unsigned char)*p); p++, (*ndigits)++) {
		*nonzero |= *p != '0';
		if (*scale < (__int128)1000000000000000000LL * 10) {
			*v = *v * 10 + (*p - '0');
			*scale *= 10;
		}
	}
	return p;
}

int
parse_duration(const char *s, int64_t *out, ctx_err *err)
{
	const char *p = s;
	__int128 total = 0;
	bool nonzero = false;	/* some digit is not 0: the duration is positive */

	if (*s == '\0')
		return ctx_fail(err, "empty duration");
	/* "-t --" or "-t -v": an option took the next word for its value. */
	if (*s == '-' && !isdigit((unsigned char)s[1]) && s[1] != '.')
		return ctx_fail(err, "'%s': not a duration (is the value missing?)", s);
	if (*s == '-')
		return ctx_fail(err, "'%s': negative duration", s);
	while (*p != '\0') {
		__int128 whole = 0, frac = 0, fscale = 1;
		int nwhole = 0, nfrac = 0;
		const char *num = p;

		/* Integer part: keep every digit, overflow is checked below. */
		for (; isdigit((unsigned char)*p); p++, nwhole++) {
			nonzero |= *p != '0';
			whole = whole * 10 + (*p - '0');
			if (whole > INT64_MAX)
				return ctx_fail(err, "'%s': duration out of range", s);
		}
		if (*p == '.')
			p = read_digits(p + 1, &frac, &fscale, &nfrac, &nonzero);
		if (nwhole + nfrac == 0)
			return ctx_fail(err, "'%s': expected a number at '%s'", s, num);

		const char *u = p;
		while (*p != '\0' && !isdigit((unsigned char)*p) && *p != '.')
			p++;
		size_t ulen = (size_t)(p - u);
		int64_t unit = 0;
		if (ulen == 0) {
			/* A bare number is seconds, but only alone: "1h30" is an error. */
			if (num != s || *p != '\0')
				return ctx_fail(err, "'%s': missing unit after '%.*s'", s,
				    (int)(p - num), num);
			unit = NS_PER_SEC;
		}
		for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && !unit; i++)
			if (strlen(units[i].name) == ulen &&
			    memcmp(units[i].name, u, ulen) == 0)
				unit = units[i].ns;
		if (unit == 0)
			return ctx_fail(err, "'%s': unknown unit '%.*s' (use ns, us, ms, s, m, h or d)",
			    s, (int)ulen, u);
		total += whole * unit + frac * unit / fscale;
		if (total > INT64_MAX)
			return ctx_fail(err, "'%s': duration out of range", s);
	}
	/* Fractions of a nanosecond are dropped, as Go does, but a positive
	 * duration never becomes 0 ("no timeout"): it is at least 1ns; nor
	 * CTX_NEVER ("none"): the longest is 1ns shorter. */
	*out = total == 0 && nonzero ? 1 : total == INT64_MAX ? CTX_LATEST : (int64_t)total;
	return 0;
}

/* Appends "<int>[.<frac trimmed>]<unit>" where v/scale is the amount. */
static size_t
put_amount(char *buf, size_t len, int64_t v, int64_t scale, int fdigits,
    const char *unit)
{
	int64_t w = v / scale, f = v % scale;
	char frac[24] = "";

	if (f != 0) {
		snprintf(frac, sizeof(frac), ".%0*" PRId64, fdigits, f);
		for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
	}
	int n = snprintf(buf, len, "%" PRId64 "%s%s", w, frac, unit);
	return n < 0 ? 0 : (size_t)n;
}

void
format_duration(int64_t ns, char *buf, size_t len)
{
	size_t n = 0;

	if (ns < 0) {
		n = (size_t)snprintf(buf, len, "-");
		ns = ns == INT64_MIN ? INT64_MAX : -ns;
	}
	if (ns == 0)
		snprintf(buf + n, len - n, "0s");
	else if (ns < 1000)
		put_amount(buf + n, len - n, ns, 1, 0, "ns");
	else if (ns < NS_PER_MS)
		put_amount(buf + n, len - n, ns, 1000, 3, "\xc2\xb5s");
	else if (ns < NS_PER_SEC)
		put_amount(buf + n, len - n, ns, NS_PER_MS, 6, "ms");
	else {
		int64_t secs = ns / NS_PER_SEC, h = secs / 3600, m = secs / 60 % 60;
		if (h > 0)
			n += (size_t)snprintf(buf + n, len - n, "%" PRId64 "h", h);
		if (h > 0 || m > 0)
			n += (size_t)snprintf(buf + n, len - n, "%" PRId64 "m", m);
		if (n < len)
			put_amount(buf + n, len - n, ns % (60 * NS_PER_SEC),
			    NS_PER_SEC, 9, "s");
	}
}

int
parse_seconds(const char *s, int64_t *out)
{
	__int128 whole = 0, frac = 0, fscale = 1;
	int nwhole = 0, nfrac = 0;
	const char *p = s;

	for (; isdigit((unsigned char)*p); p++, nwhole++)
		if ((whole = whole * 10 + (*p - '0')) > INT64_MAX / NS_PER_SEC)
			return -1;
	if (*p == '.') {
		for (p++; isdigit((unsigned char)*p); p++, nfrac++)
			if (nfrac < 9) {
				frac = frac * 10 + (*p - '0');
				fscale *= 10;
			}
	}
	if (*p != '\0' || nwhole == 0)
		return -1;
	__int128 v = whole * NS_PER_SEC + frac * NS_PER_SEC / fscale;
	if (v > INT64_MAX)
		return -1;
	*out = (int64_t)v;
	return 0;
}

static const struct {
	const char *name;
	int sig;
} signames[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CONT", SIGCONT },
	{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN },
	{ "TTOU", SIGTTOU }, { "URG", SIGURG }, { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF },
	{ "WINCH", SIGWINCH }, { "IO", SIGIO }, { "PWR", SIGPWR },
	{ "SYS", SIGSYS },
	/* Aliases after the canonical names, so signal_name() finds those. */
	{ "IOT", SIGABRT }, { "CLD", SIGCHLD }, { "POLL", SIGIO },
};

/* Digits only, value <= max. */
static int
small_number(const char *s, int max)
{
	int v = 0;

	if (*s == '\0' || strlen(s) > 3)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v <= max ? v : -1;
}

int
parse_signal(const char *s, int *sig, ctx_err *err)
{
	const char *n = s;
	int v;

	if ((v = small_number(s, SIGRTMAX)) >= 0) {
		*sig = v;
		return 0;
	}
	if (strncasecmp(n, "SIG", 3) == 0)
		n += 3;
	for (size_t i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (strcasecmp(n, signames[i].name) == 0) {
			*sig = signames[i].sig;
			return 0;
		}
	if (strncasecmp(n, "RTMIN", 5) == 0 || strncasecmp(n, "RTMAX", 5) == 0) {
		bool min = toupper((unsigned char)n[3]) == 'I';
		int off = 0, range = SIGRTMAX - SIGRTMIN;
		if (n[5] != '\0') {
			if (n[5] != (min ? '+' : '-') || (off = small_number(n + 6, range)) < 0)
				goto bad;
		}
		*sig = min ? SIGRTMIN + off : SIGRTMAX - off;
		return 0;
	}
bad:
	return ctx_fail(err, "'%s': unknown signal (try TERM, INT, KILL or a number)", s);
}

const char *
signal_name(int sig, char *buf, size_t len)
{
	for (size_t i = 0; i < sizeof(signames) / sizeof(signames[0]); i++)
		if (signames[i].sig == sig) {
			snprintf(buf, len, "%s", signames[i].name);
			return buf;
		}
	if (sig == SIGRTMAX)
		snprintf(buf, len, "RTMAX");
	else if (sig >= SIGRTMIN && sig < SIGRTMAX)
		snprintf(buf, len, sig == SIGRTMIN ? "RTMIN" : "RTMIN+%d", sig - SIGRTMIN);
	else
		snprintf(buf, len, "%d", sig);
	return buf;
}

bool
is_identifier(const char *s, size_t len)
{
	if (len == 0 || isdigit((unsigned char)s[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_')
			return false;
	return true;
}

/* One exit status 0-255 of a --retry-on list. */
static int
parse_status(const char *s, size_t len, int *v)
{
	*v = 0;
	if (len == 0 || len > 3)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	return *v <= 255 ? 0 : -1;
}

int
parse_retry_on(const char *s, struct retry_policy *rp, ctx_err *err)
{
	memset(rp->on_exit, 0, sizeof(rp->on_exit));
	rp->on_timeout = rp->on_signal = false;
	if (*s == '\0')
		return ctx_fail(err, "empty list (exit statuses, ranges, timeout, "
		    "signal or any)");
	for (const char *p = s;;) {
		size_t n = strcspn(p, ",");
		const char *dash = memchr(p, '-', n);
		int lo, hi;

		if (n == 7 && strncmp(p, "timeout", n) == 0)
			rp->on_timeout = true;
		else if (n == 6 && strncmp(p, "signal", n) == 0)
			rp->on_signal = true;
		else if (n == 3 && strncmp(p, "any", n) == 0) {
			memset(rp->on_exit, 0xff, sizeof(rp->on_exit));
			rp->on_exit[0] &= (uint8_t)~1u;	/* 0 is success */
			rp->on_timeout = rp->on_signal = true;
		} else if (dash != NULL) {
			if (parse_status(p, (size_t)(dash - p), &lo) == -1 ||
			    parse_status(dash + 1, n - (size_t)(dash - p) - 1, &hi) == -1)
				return ctx_fail(err, "'%.*s' is not a range of exit "
				    "statuses (0 to 255)", (int)n, p);
			if (lo > hi)
				return ctx_fail(err, "'%.*s' is an empty range", (int)n, p);
			if (lo == 0)
				return ctx_fail(err, "'%.*s': 0 is success, never retried "
				    "(1-%d, or any)", (int)n, p, hi);
			for (int v = lo; v <= hi; v++)
				rp->on_exit[v / 8] |= (uint8_t)(1u << (v % 8));
		} else if (parse_status(p, n, &lo) == 0 && lo == 0)
			return ctx_fail(err, "'0': 0 is success, never retried");
		else if (parse_status(p, n, &lo) == 0)
			rp->on_exit[lo / 8] |= (uint8_t)(1u << (lo % 8));
		else
			return ctx_fail(err, "'%.*s' is not an exit status (0 to 255), "
			    "a range, timeout, signal or any", (int)n, p);
		if (p[n] == '\0')
			return 0;
		p += n + 1;
	}
}
