/*
 * Parsers and printers for what users type: durations, instants, signal
 * names, keys.  Pure functions over strings; no allocation, no globals.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <stdarg.h>

#include "ctxrun.h"

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
	 * duration never becomes 0 ("no timeout"): it is at least 1ns. */
	*out = total == 0 && nonzero ? 1 : (int64_t)total;
	return 0;
}

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
	 * resolution; about 126 years at most, which is as good as forever. */
	v = ceil(v * 1e9);
	*out = v >= 4e18 ? INT64_MAX / 2 : (int64_t)v;
	if (*out == 0 && underflow)
		*out = 1;	/* too small to represent: still times out */
	return 0;
bad:
	return ctx_fail(err, "invalid time interval '%s'", s);
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

/* Days since 1970-01-01 of a proleptic Gregorian date (Hinnant's method). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Exactly n digits at *p into *v. */
static bool
fixed_digits(const char **p, int n, int *v)
{
	*v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (!isdigit((unsigned char)**p))
			return false;
		*v = *v * 10 + (**p - '0');
	}
	return true;
}

static bool
expect(const char **p, const char *any)
{
	if (**p == '\0' || strchr(any, **p) == NULL)
		return false;
	(*p)++;
	return true;
}

int
parse_instant(const char *s, int64_t *out, ctx_err *err)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, scale = 1;

	if (*s == '@') {
		/* Before 1970 is allowed: a deadline that has long passed. */
		bool before = s[1] == '-';
		const char *n = s + 1 + before;
		size_t digits = strspn(n, "0123456789");
		bool well_formed = digits > 0 && (n[digits] == '\0' ||
		    (n[digits] == '.' && strspn(n + digits + 1, "0123456789") ==
		    strlen(n + digits + 1)));
		if (!well_formed)
			return ctx_fail(err, "'%s': expected @[-]SECONDS[.FRACTION] since the epoch", s);
		if (parse_seconds(n, out) == -1) {
			/* Well formed, out of range: long past, or too far. */
			if (!before)
				return ctx_fail(err, "'%s': too far in the future (after 2262)", s);
			*out = CTX_INSTANT_MIN;
			return 0;
		}
		if (before)
			*out = -*out < CTX_INSTANT_MIN ? CTX_INSTANT_MIN : -*out;
		return 0;
	}
	if (!fixed_digits(&p, 4, &y) || !expect(&p, "-") ||
	    !fixed_digits(&p, 2, &mo) || !expect(&p, "-") ||
	    !fixed_digits(&p, 2, &d) || !expect(&p, "Tt ") ||
	    !fixed_digits(&p, 2, &h) || !expect(&p, ":") ||
	    !fixed_digits(&p, 2, &mi) || !expect(&p, ":") ||
	    !fixed_digits(&p, 2, &sec))
		goto syntax;
	if (*p == '.') {
		int n = 0;
		for (p++; isdigit((unsigned char)*p); p++, n++)
			if (n < 9) {
				frac = frac * 10 + (*p - '0');
				scale *= 10;
			}
		if (n == 0)
			goto syntax;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (!fixed_digits(&p, 2, &oh) || !expect(&p, ":") ||
		    !fixed_digits(&p, 2, &om))
			goto syntax;
	} else
		goto syntax;
	if (*p != '\0')
		goto syntax;

	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    (mo == 2 && d == 29 && !leap))
		return ctx_fail(err, "'%s': no such date", s);
	if (h > 23 || mi > 59 || sec > 59 || oh > 23 || om > 59)
		return ctx_fail(err, "'%s': time of day out of range", s);

	int64_t secs = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec -
	    sign * (oh * 3600 + om * 60);
	if (secs > INT64_MAX / NS_PER_SEC - 1)
		return ctx_fail(err, "'%s': too far in the future (after 2262)", s);
	/* Before 1677 nanoseconds since the epoch no longer fit: every such
	 * instant is the earliest that does, as past as any. */
	__int128 ns = (__int128)secs * NS_PER_SEC + frac * (NS_PER_SEC / scale);
	*out = ns < CTX_INSTANT_MIN ? CTX_INSTANT_MIN : (int64_t)ns;
	return 0;
syntax:
	return ctx_fail(err, "'%s': expected RFC 3339 (2026-11-25T08:00:00Z) or @EPOCH", s);
}

/* a / b and a % b rounded towards minus infinity (b > 0): the second
 * before the epoch is -1, not 0. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b < 0);
}

static int64_t
floor_mod(int64_t a, int64_t b)
{
	return a % b + (a % b < 0 ? b : 0);
}

void
format_instant(int64_t epoch_ns, char *buf, size_t len)
{
	int64_t ms = floor_div(epoch_ns, NS_PER_MS);	/* truncated to the ms */
	int64_t secs = floor_div(ms, 1000), sod = floor_mod(secs, 86400);
	int y, m, d;

	civil_from_days(floor_div(secs, 86400), &y, &m, &d);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", y, m, d,
	    (int)(sod / 3600), (int)(sod % 3600 / 60), (int)(sod % 60),
	    (int)floor_mod(ms, 1000));
}

void
format_epoch(int64_t epoch_ns, char *buf, size_t len)
{
	int64_t ms = floor_div(epoch_ns, NS_PER_MS);
	uint64_t a = ms < 0 ? -(uint64_t)ms : (uint64_t)ms;

	/* -1.500 is 1.5 s before the epoch: the sign applies to the fraction. */
	snprintf(buf, len, "%s%" PRIu64 ".%03" PRIu64, ms < 0 ? "-" : "",
	    a / 1000, a % 1000);
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

/* ---- GNU coreutils timeout's own readings and spellings ---------------- */

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
