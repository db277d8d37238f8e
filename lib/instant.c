/*
 * Absolute instants, for --deadline and the reports: RFC 3339 and @EPOCH
 * read into nanoseconds since the epoch, and printed back.  Apart from
 * parse.c because the calendar (days to dates and back, leap years) is a
 * concern of its own that no other parser needs.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

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

/* "@[-]SECONDS[.FRACTION]": seconds since the epoch, as date -d reads
 * them. */
static int
parse_at_epoch(const char *s, int64_t *out, ctx_err *err)
{
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
	else if (*out > CTX_LATEST)
		*out = CTX_LATEST;	/* an instant, never CTX_NEVER's value */
	return 0;
}

int
parse_instant(const char *s, int64_t *out, ctx_err *err)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	const char *p = s;
	int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
	int64_t frac = 0, scale = 1;

	if (*s == '@')
		return parse_at_epoch(s, out, err);
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
	/* Before 1677 nanoseconds since the epoch no longer fit: every such
	 * instant is the earliest that does, as past as any; after
	 * 2262-04-11T23:47:16.854775807Z they do not either, and that is
	 * refused, as for @EPOCH (that last nanosecond is the one before:
	 * an instant, never CTX_NEVER's value). */
	__int128 ns = (__int128)secs * NS_PER_SEC + frac * (NS_PER_SEC / scale);
	if (ns > INT64_MAX)
		return ctx_fail(err, "'%s': too far in the future (after 2262)", s);
	*out = ns < CTX_INSTANT_MIN ? CTX_INSTANT_MIN : ns > CTX_LATEST ? CTX_LATEST : (int64_t)ns;
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
