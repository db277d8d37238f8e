/* Parsers by table: what is accepted (and as what), what is refused. */
#include <signal.h>
#include <string.h>

#include "../../lib/gnu.h"
#include "../../lib/internal.h"
#include "unit.h"

#define S NS_PER_SEC
#define MS NS_PER_MS

static const struct {
	const char *in;
	int64_t ns;
} good_durations[] = {
	{ "0", 0 }, { "90", 90 * S }, { "1.5", 1500 * MS }, { ".5", 500 * MS },
	{ "5.", 5 * S }, { "1.5s", 1500 * MS }, { "250ms", 250 * MS },
	{ "2m", 120 * S }, { "1h30m", 5400 * S }, { "1d", 86400 * S },
	{ "1h2m3s4ms5us6ns", 3723 * S + 4 * MS + 5006 },
	{ "10us", 10000 }, { "10\xc2\xb5s", 10000 }, { "7ns", 7 },
	{ "0.000000001s", 1 }, { "1.000000000000000000001s", S },
	/* Positive stays positive: at least 1ns, whatever the fraction path. */
	{ "0.0000000001s", 1 }, { "0.5ns", 1 }, { ".5ns", 1 }, { "0.9ns", 1 },
	{ "0.0000000001", 1 }, { "0.00000000000000000000000001", 1 },
	{ "0.00000000000000000000000001h", 1 }, { "0.5ns0.4ns", 1 },
	{ "0s0.1ns", 1 }, { "1.5ns", 1 }, { "0.0ns", 0 }, { "0h0m0s", 0 },
	{ "0.000000000000000000000000", 0 },
	/* The longest is never CTX_NEVER ("none"). */
	{ "9223372036.854775807s", CTX_LATEST }, { "9223372036854775807ns", CTX_LATEST },
	{ "9223372036.854775806s", CTX_LATEST }, { "106751d", INT64_C(106751) * 86400 * S },
	{ "0s", 0 }, { "00010s", 10 * S },
};

static const char *bad_durations[] = {
	"", "-1", "-1s", "+1s", "1x", "s", "1h30", "1 s", " 1s", "1s ", "nan",
	"inf", "1e3", "1..5s", ".s", ".", "1.5.5s", "9223372037s", "106752d",
	"99999999999999999999", "1mss", "1S", "0x10", "1s-1s",
};

static const struct {
	const char *in;
	int64_t ns;
} good_instants[] = {
	{ "1970-01-01T00:00:00Z", 0 },
	{ "2026-11-25T08:00:00Z", 1795593600 * S },
	{ "2026-11-25T08:00:00.250+01:00", (1795593600 - 3600) * S + 250 * MS },
	{ "2026-11-25t08:00:00z", 1795593600 * S },
	{ "2026-11-25 08:00:00-00:30", (1795593600 + 1800) * S },
	{ "2024-02-29T12:00:00Z", 1709208000 * S },
	{ "@0", 0 }, { "@1795593600", 1795593600 * S }, { "@1.5", 1500 * MS },
	{ "@1.123456789999", S + 123456789 },
	{ "2262-04-11T23:47:15Z", 9223372035 * S },
	/* The last instants in range, both forms alike; the very last is
	 * one nanosecond earlier, never CTX_NEVER's value. */
	{ "2262-04-11T23:47:16Z", 9223372036 * S },
	{ "2262-04-11T23:47:16.854775807Z", CTX_LATEST },
	{ "@9223372036.854775807", CTX_LATEST }, { "@9223372036.854775806", CTX_LATEST },
	/* Before 1970: valid, and past. */
	{ "@-1", -S }, { "@-1.5", -1500 * MS }, { "@-0", 0 },
	{ "1969-12-31T23:59:59Z", -S }, { "1969-12-31T23:59:59.5Z", -500 * MS },
	{ "1970-01-01T00:30:00+01:00", -1800 * S },
	{ "1900-01-01T00:00:00Z", -INT64_C(2208988800) * S },
	{ "1677-09-21T00:12:45Z", -INT64_C(9223372035) * S },
	{ "0001-01-01T00:00:00Z", CTX_INSTANT_MIN },	/* clamped */
	{ "1677-09-21T00:12:44.145Z", CTX_INSTANT_MIN },
	{ "1677-09-21T00:12:44.146Z", CTX_INSTANT_MIN + 775808 },
	{ "@-9223372035.854775808", CTX_INSTANT_MIN },
	{ "@-9223372035.854775809", CTX_INSTANT_MIN },
	{ "@-9223372036.8", CTX_INSTANT_MIN },
};

static const char *bad_instants[] = {
	"", "now", "2026-11-25", "2026-11-25T08:00:00", "2026-13-01T00:00:00Z",
	"2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z", "2026-11-25T24:00:00Z",
	"2026-11-25T08:60:00Z", "2026-11-25T08:00:60Z", "2026-11-25T08:00:00.Z",
	"2026-11-25T08:00:00+0100", "2026-11-25T08:00:00Zjunk",
	"9999-12-31T23:59:59Z", "@", "@-", "@--1", "@-x", "@+1",
	"@1.5.5", "@x", "@ 1", "26-11-25T08:00:00Z",
	"2026-11-25T08:00:00+24:00", "2262-04-11T23:47:16.854775808Z",
	"2262-04-11T23:47:17Z", "@9223372036.854775808",
};

static struct {
	const char *in;
	int sig;
} good_signals[] = {
	{ "TERM", SIGTERM }, { "SIGTERM", SIGTERM }, { "term", SIGTERM },
	{ "sigint", SIGINT }, { "9", SIGKILL }, { "0", 0 }, { "KILL", SIGKILL },
	{ "IOT", SIGABRT }, { "CLD", SIGCHLD }, { "USR1", SIGUSR1 },
	{ "RTMIN", 0 /* filled in */ }, { "RTMIN+2", 0 }, { "RTMAX-1", 0 },
};

static const char *bad_signals[] = {
	"", "FOO", "SIG", "SIGSIGTERM", "-1", "65", "1000", "RTMIN+99", "RTMIN-1",
	"RTMAX+1", "TERM ", " 9", "9x",
};


/* GNU timeout's -s (coreutils' operand2sig), checked against GNU 9.1. */
static struct {
	const char *in;
	int sig;
} gnu_good_signals[] = {
	{ "EXIT", 0 }, { "exit", 0 }, { "SIGEXIT", 0 }, { "0", 0 },
	{ "0015", SIGTERM }, { "00000000000000000009", SIGKILL },
	{ "143", SIGTERM }, { "271", SIGTERM }, { "128", 0 }, { "256", 0 },
	{ "SIG15", SIGTERM }, { "sig0015", SIGTERM }, { "sigterm", SIGTERM },
	{ "IOT", SIGABRT }, { "CLD", SIGCHLD }, { "POLL", SIGIO }, { "IO", SIGIO },
	{ "STKFLT", SIGSTKFLT }, { "64", 64 }, { "Sig64", 64 },
	{ "RTMIN", 34 }, { "RTMIN1", 35 }, { "RTMIN 1", 35 }, { "RTMIN+01", 35 },
	{ "RTMIN-0", 34 }, { "rtmin+30", 64 }, { "RTMAX", 64 }, { "RTMAX+0", 64 },
	{ "RTMAX-30", 34 }, { "SIGRTMAX-1", 63 },
};

static const char *gnu_bad_signals[] = {
	"32", "33", "65", "127", "255", "383", "4294967311", "-1", "+1", " 1",
	"15 ", "1x", "0x1", "-0", "", "SIG", "SIG32", "SIG65", "SIGSIG15",
	"EXIT0", "UNUSED", "RTMIN+", "RTMIN+31", "RTMIN+ 1", "RTMIN-1",
	"RTMAX+1", "RTMAX1", "SIGRTMAX-31", "TERM ",
};

static const struct {
	int sig;
	const char *name;
} gnu_names[] = {
	{ 0, "EXIT" }, { SIGTERM, "TERM" }, { SIGABRT, "ABRT" }, { SIGIO, "POLL" },
	{ SIGCHLD, "CHLD" }, { 34, "RTMIN" }, { 35, "RTMIN+1" }, { 49, "RTMIN+15" },
	{ 50, "RTMAX-14" }, { 63, "RTMAX-1" }, { 64, "RTMAX" },
};

static const struct {
	const char *in, *out;
} gnu_quotes[] = {
	{ "", "''" }, { "sleep", "'sleep'" }, { "'1", "'\\'1'" },
	{ "a\\b", "'a\\\\b'" }, { "10\xe2\x82\xac", "'10\\342\\202\\254'" },
	{ "\a\b\t\n\v\f\r", "'\\a\\b\\t\\n\\v\\f\\r'" },
	{ "\x01\x1b\x7f\xff", "'\\001\\033\\177\\377'" },
	{ " \"?`$*", "' \"?`$*'" },
};

static const struct {
	const char *in;
	int64_t ns;
} gnu_good_durations[] = {
	{ "0", 0 }, { "-0", 0 }, { "-0.0s", 0 }, { "1.5", 1500 * MS }, { "0x1p-2", 250 * MS },
	{ "2m", 120 * S }, { " 1", S }, { "+1", S }, { "1e-10000", 1 }, { "1e-10000d", 1 },
	{ "0.0000000001", 1 },
};

static const char *gnu_bad_durations[] = {
	"", " -1e-10000", "-1e-10000", "-1", "-1e400", "nan", "-nan", "1x", "1ss",
	"1 ", "42D", "invalid", "5ms", "0x", "1e",
};

int
main(void)
{
	ctx_err err;
	int64_t v;
	int sig;
	char buf[64];

	for (size_t i = 0; i < sizeof(good_durations) / sizeof(good_durations[0]); i++) {
		int rc = parse_duration(good_durations[i].in, &v, &err);
		CHECK(rc == 0 && v == good_durations[i].ns, "'%s' -> rc %d, %lld",
		    good_durations[i].in, rc, (long long)v);
		/* Printed and parsed again: the same value. */
		format_duration(good_durations[i].ns, buf, sizeof(buf));
		rc = parse_duration(buf, &v, &err);
		CHECK(rc == 0 && v == good_durations[i].ns, "round trip '%s' via '%s'",
		    good_durations[i].in, buf);
	}
	for (size_t i = 0; i < sizeof(bad_durations) / sizeof(bad_durations[0]); i++) {
		err.msg[0] = '\0';
		CHECK(parse_duration(bad_durations[i], &v, &err) == -1 && err.msg[0],
		    "'%s' accepted", bad_durations[i]);
	}
	format_duration(5400 * S, buf, sizeof(buf));
	CHECK(strcmp(buf, "1h30m0s") == 0, "got %s", buf);
	format_duration(200 * MS, buf, sizeof(buf));
	CHECK(strcmp(buf, "200ms") == 0, "got %s", buf);
	format_duration(1500 * MS, buf, sizeof(buf));
	CHECK(strcmp(buf, "1.5s") == 0, "got %s", buf);
	format_duration(0, buf, sizeof(buf));
	CHECK(strcmp(buf, "0s") == 0, "got %s", buf);

	for (size_t i = 0; i < sizeof(good_instants) / sizeof(good_instants[0]); i++) {
		int rc = parse_instant(good_instants[i].in, &v, &err);
		CHECK(rc == 0 && v == good_instants[i].ns, "'%s' -> rc %d, %lld (%s)",
		    good_instants[i].in, rc, (long long)v, rc ? err.msg : "");
	}
	for (size_t i = 0; i < sizeof(bad_instants) / sizeof(bad_instants[0]); i++)
		CHECK(parse_instant(bad_instants[i], &v, &err) == -1, "'%s' accepted",
		    bad_instants[i]);
	format_instant(1795593600 * S + 250 * MS, buf, sizeof(buf));
	CHECK(strcmp(buf, "2026-11-25T08:00:00.250Z") == 0, "got %s", buf);
	CHECK(parse_instant(buf, &v, &err) == 0 && v == 1795593600 * S + 250 * MS,
	    "instant round trip");

	/* Before 1970: the calendar and the epoch seconds go down, not up. */
	static const struct {
		int64_t ns;
		const char *rfc, *epoch;
	} printed[] = {
		{ 0, "1970-01-01T00:00:00.000Z", "0.000" },
		{ 1500 * MS, "1970-01-01T00:00:01.500Z", "1.500" },
		{ -1, "1969-12-31T23:59:59.999Z", "-0.001" },
		{ -S, "1969-12-31T23:59:59.000Z", "-1.000" },
		{ -1500 * MS, "1969-12-31T23:59:58.500Z", "-1.500" },
		{ -INT64_C(2208988800) * S, "1900-01-01T00:00:00.000Z", "-2208988800.000" },
		{ INT64_MIN + S, "1677-09-21T00:12:44.145Z", "-9223372035.855" },
	};
	for (size_t i = 0; i < sizeof(printed) / sizeof(printed[0]); i++) {
		format_instant(printed[i].ns, buf, sizeof(buf));
		CHECK(strcmp(buf, printed[i].rfc) == 0, "%lld: got %s, want %s",
		    (long long)printed[i].ns, buf, printed[i].rfc);
		format_epoch(printed[i].ns, buf, sizeof(buf));
		CHECK(strcmp(buf, printed[i].epoch) == 0, "%lld: got %s, want %s",
		    (long long)printed[i].ns, buf, printed[i].epoch);
	}

	good_signals[10].sig = SIGRTMIN;
	good_signals[11].sig = SIGRTMIN + 2;
	good_signals[12].sig = SIGRTMAX - 1;
	for (size_t i = 0; i < sizeof(good_signals) / sizeof(good_signals[0]); i++) {
		int rc = parse_signal(good_signals[i].in, &sig, &err);
		CHECK(rc == 0 && sig == good_signals[i].sig, "'%s' -> %d",
		    good_signals[i].in, sig);
	}
	for (size_t i = 0; i < sizeof(bad_signals) / sizeof(bad_signals[0]); i++)
		CHECK(parse_signal(bad_signals[i], &sig, &err) == -1, "'%s' accepted",
		    bad_signals[i]);
	for (int s = 1; s <= SIGRTMAX; s++) {
		if (s > 31 && s < SIGRTMIN)
			continue;
		signal_name(s, buf, sizeof(buf));
		CHECK(parse_signal(buf, &sig, &err) == 0 && sig == s,
		    "signal %d named '%s' parses back", s, buf);
	}

	for (size_t i = 0; i < sizeof(gnu_good_signals) / sizeof(gnu_good_signals[0]); i++) {
		sig = -2;
		int rc = parse_gnu_signal(gnu_good_signals[i].in, &sig);
		CHECK(rc == 0 && sig == gnu_good_signals[i].sig, "GNU '%s' -> rc %d, %d",
		    gnu_good_signals[i].in, rc, sig);
	}
	for (size_t i = 0; i < sizeof(gnu_bad_signals) / sizeof(gnu_bad_signals[0]); i++)
		CHECK(parse_gnu_signal(gnu_bad_signals[i], &sig) == -1,
		    "GNU '%s' accepted", gnu_bad_signals[i]);
	for (size_t i = 0; i < sizeof(gnu_names) / sizeof(gnu_names[0]); i++) {
		const char *n = gnu_signal_name(gnu_names[i].sig, buf, sizeof(buf));
		CHECK(n != NULL && strcmp(n, gnu_names[i].name) == 0,
		    "GNU name of %d: %s", gnu_names[i].sig, n ? n : "(null)");
	}
	CHECK(gnu_signal_name(32, buf, sizeof(buf)) == NULL, "32 has a name");
	for (int s = 0; s <= SIGRTMAX; s++) {
		if (gnu_signal_name(s, buf, sizeof(buf)) == NULL)
			continue;
		CHECK(parse_gnu_signal(buf, &sig) == 0 && sig == s,
		    "GNU name '%s' of %d parses back", buf, s);
	}
	for (size_t i = 0; i < sizeof(gnu_quotes) / sizeof(gnu_quotes[0]); i++) {
		size_t n = gnu_quote(gnu_quotes[i].in, buf, sizeof(buf));
		CHECK(strcmp(buf, gnu_quotes[i].out) == 0 && n == strlen(buf),
		    "quote: got %s", buf);
	}
	/* Truncated like snprintf: the length wanted, a NUL within len. */
	CHECK(gnu_quote("abcdef", buf, 4) == 8 && strcmp(buf, "'ab") == 0,
	    "truncated quote: %s", buf);
	CHECK(gnu_quote("x", NULL, 0) == 3, "quote length");
	for (size_t i = 0; i < sizeof(gnu_good_durations) / sizeof(gnu_good_durations[0]); i++) {
		int rc = parse_gnu_duration(gnu_good_durations[i].in, &v, &err);
		CHECK(rc == 0 && v == gnu_good_durations[i].ns, "GNU duration '%s' -> rc %d, %lld",
		    gnu_good_durations[i].in, rc, (long long)v);
	}
	for (size_t i = 0; i < sizeof(gnu_bad_durations) / sizeof(gnu_bad_durations[0]); i++)
		CHECK(parse_gnu_duration(gnu_bad_durations[i], &v, &err) == -1,
		    "GNU duration '%s' accepted", gnu_bad_durations[i]);

	CHECK(is_identifier("A_1", 3), "A_1");
	CHECK(is_identifier("_", 1), "_");
	CHECK(!is_identifier("1A", 2), "1A");
	CHECK(!is_identifier("A-B", 3), "A-B");
	CHECK(!is_identifier("", 0), "empty");

	CHECK(parse_seconds("12.5", &v) == 0 && v == 12500 * MS, "12.5");
	CHECK(parse_seconds("12.", &v) == 0 && v == 12 * S, "12.");
	CHECK(parse_seconds(".5", &v) == -1, ".5");
	CHECK(parse_seconds("9223372037", &v) == -1, "overflow");

	/* @EPOCH long before 1677 is the earliest instant: past. */
	CHECK(parse_instant("@-99999999999", &v, &err) == 0 && v == CTX_INSTANT_MIN,
	    "@-99999999999: %s", err.msg);
	CHECK(parse_instant("@99999999999", &v, &err) == -1, "@99999999999 accepted");

	/* --retry-on lists, and the wait between attempts. */
	struct retry_policy rp = { .delay = 100 * MS, .max_delay = S };
#define RETRIES(st) ((rp.on_exit[(st) / 8] >> ((st) % 8)) & 1)
	CHECK(parse_retry_on("1,3-5,255,timeout", &rp, &err) == 0, "%s", err.msg);
	CHECK(RETRIES(1) && !RETRIES(2) && RETRIES(3) && RETRIES(5) && !RETRIES(6) &&
	    RETRIES(255) && !RETRIES(0) && rp.on_timeout && !rp.on_signal, "list");
	CHECK(parse_retry_on("any", &rp, &err) == 0 && !RETRIES(0) && RETRIES(126) &&
	    rp.on_signal && rp.on_timeout, "any");
	CHECK(parse_retry_on("signal", &rp, &err) == 0 && !RETRIES(1) && rp.on_signal &&
	    !rp.on_timeout, "signal alone");
	static const char *bad_lists[] = { "", ",", "1,", "3-1", "256", "-1", "1-",
	    "x", "timeouts", "1 ,2", "0x1" };
	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++)
		CHECK(parse_retry_on(bad_lists[i], &rp, &err) == -1, "'%s' accepted",
		    bad_lists[i]);
	rp.jitter = false;
	CHECK(retry_wait(&rp, 1) == 100 * MS && retry_wait(&rp, 2) == 200 * MS &&
	    retry_wait(&rp, 4) == 800 * MS && retry_wait(&rp, 5) == S &&
	    retry_wait(&rp, 1000000) == S, "doubling to the cap");
	rp.jitter = true;
	for (unsigned n = 1; n < 40; n++) {
		int64_t w = retry_wait(&rp, n), full = n >= 5 ? S : (100 * MS) << (n - 1);
		CHECK(w >= full / 2 && w <= full, "jitter %u: %lld", n, (long long)w);
	}
	return unit_report("test_parse");
}
