/*
 * ctxrun timeout, and ctxrun invoked as "timeout": GNU coreutils timeout's
 * command line, durations, signals, messages and exit statuses, on top of
 * ctxrun's supervisor, so that the time limit reaches the whole tree.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/ctxrun.h"
#include "cmd.h"

static const char timeout_usage[] =
    "Usage: timeout [OPTION] DURATION COMMAND [ARG]...\n"
    "  or:  timeout [OPTION]\n"
    "Start COMMAND, and kill it if still running after DURATION.\n"
    "\n"
    "  -f, --foreground       keep COMMAND in timeout's process group\n"
    "  -k, --kill-after=DURATION\n"
    "                         also send a KILL signal if COMMAND is still running\n"
    "                           this long after the initial signal was sent\n"
    "  -p, --preserve-status  exit with the same status as COMMAND, even when the\n"
    "                           command times out\n"
    "  -s, --signal=SIGNAL    the signal to send on timeout (default TERM)\n"
    "  -v, --verbose          diagnose to stderr any signal sent upon timeout\n"
    "      --help             show this help and exit\n"
    "      --version          show the version and exit\n"
    "\n"
    "DURATION is a floating point number with an optional suffix: 's' for\n"
    "seconds (the default), 'm' for minutes, 'h' for hours or 'd' for days.\n"
    "A duration of 0 disables the associated timeout.\n"
    "\n"
    "Unlike GNU timeout, the signal reaches COMMAND's whole process tree, also\n"
    "the processes that left its process group or session.\n"
    "\n"
    "Exit status: 124 if COMMAND times out (without --preserve-status), 125 if\n"
    "timeout itself fails, 126 if COMMAND cannot be run, 127 if it is not found,\n"
    "137 if it was sent KILL, else COMMAND's status.  See ctxrun(1).\n";

/* GNU names itself by its argv[0], in messages and in the Try line. */
static const char *progname = "timeout";

static void
vsay(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", progname);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

/* One line "timeout: ..." and 125: nothing was started. */
static void __dead2 timeout_error(const char *fmt, ...) __printflike(1, 2);

static void
timeout_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay(fmt, ap);
	va_end(ap);
	exit(EXIT_CTX_FAILED);
}

/* Bad usage, as GNU's usage(EXIT_CANCELED): the message if any, then the
 * Try line, and 125. */
static void __dead2 usage_failure(const char *fmt, ...) __printflike(1, 2);

static void
usage_failure(const char *fmt, ...)
{
	va_list ap;

	if (fmt != NULL) {
		va_start(ap, fmt);
		vsay(fmt, ap);
		va_end(ap);
	}
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	exit(EXIT_CTX_FAILED);
}

/* s as GNU's quote() shows it (C locale); freed by exit. */
static char *
quoted(const char *s)
{
	size_t n = gnu_quote(s, NULL, 0) + 1;
	char *q = malloc(n);

	if (q == NULL)
		timeout_error("memory exhausted");
	gnu_quote(s, q, n);
	return q;
}

/* Long options have values of their own, so that getopt's complaints about
 * a long option (a value it does not take, a value missing) can be told
 * from those about a short one, and the option named in full as GNU does. */
enum { OPT_FOREGROUND = 256, OPT_KILL_AFTER, OPT_PRESERVE, OPT_SIGNAL,
    OPT_VERBOSE, OPT_HELP, OPT_VERSION };

/* In GNU's order: ambiguous abbreviations list their candidates so. */
static const struct option timeout_options[] = {
	{ "foreground", no_argument, NULL, OPT_FOREGROUND },
	{ "kill-after", required_argument, NULL, OPT_KILL_AFTER },
	{ "preserve-status", no_argument, NULL, OPT_PRESERVE },
	{ "signal", required_argument, NULL, OPT_SIGNAL },
	{ "verbose", no_argument, NULL, OPT_VERBOSE },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* getopt_long returned '?' for a long option it could not take: arg (the
 * argument, "--name[=value]") is unknown or an ambiguous abbreviation. */
static void __dead2
bad_long_option(const char *arg)
{
	size_t n = strcspn(arg + 2, "=");
	int matches = 0;

	for (const struct option *o = timeout_options; o->name != NULL; o++)
		if (strncmp(o->name, arg + 2, n) == 0)
			matches++;
	if (matches < 2)
		usage_failure("unrecognized option '%s'", arg);
	fprintf(stderr, "%s: option '%s' is ambiguous; possibilities:", progname, arg);
	for (const struct option *o = timeout_options; o->name != NULL; o++)
		if (strncmp(o->name, arg + 2, n) == 0)
			fprintf(stderr, " '--%s'", o->name);
	fputc('\n', stderr);
	usage_failure(NULL);
}

static int64_t
gnu_duration(const char *s)
{
	int64_t v;
	ctx_err err;

	if (parse_gnu_duration(s, &v, &err) == -1)
		usage_failure("invalid time interval %s", quoted(s));
	return v;
}

/* GNU timeout's terminating signals: what it catches and passes on. */
static bool
gnu_catches(int sig)
{
	switch (sig) {
	case SIGALRM: case SIGINT: case SIGQUIT: case SIGHUP: case SIGTERM:
	case SIGPIPE: case SIGUSR1: case SIGUSR2: case SIGILL: case SIGTRAP:
	case SIGABRT: case SIGBUS: case SIGFPE: case SIGSEGV: case SIGXCPU:
	case SIGXFSZ: case SIGSYS: case SIGVTALRM: case SIGPROF: case SIGIO:
	case SIGPWR: case SIGSTKFLT: case SIGCHLD:
		return true;
	}
	return sig >= SIGRTMIN && sig <= SIGRTMAX;
}

/*
 * GNU timeout's policy: it takes its terminating signals (ALRM and the -s
 * signal even when the caller ignored them) and passes each one on; an
 * external ALRM is the time limit.  A passed-on signal leaves the time limit
 * armed, unless -k was given: then, as in GNU, the first one starts the
 * KILL timer instead.  timeout runs in a process group of its own, is never
 * stopped by the terminal, and leaves the leftovers of a COMMAND that exits
 * on its own alone.
 */
static void
gnu_policy(struct policy *p, int first_signal, bool kill_after)
{
	memset(p, 0, sizeof(*p));
	sigemptyset(&p->caught);
	sigemptyset(&p->keep_caught);
	sigemptyset(&p->ending);
	sigemptyset(&p->as_deadline);
	for (int sig = 1; sig <= SIGRTMAX; sig++)
		if (gnu_catches(sig) || sig == first_signal)
			sigaddset(&p->caught, sig);
	sigaddset(&p->keep_caught, SIGALRM);
	if (first_signal > 0)
		sigaddset(&p->keep_caught, first_signal);
	sigaddset(&p->as_deadline, SIGALRM);
	if (kill_after) {
		p->ending = p->caught;
		sigdelset(&p->ending, SIGALRM);
		sigdelset(&p->ending, SIGCHLD);
	}
	p->forward_to_tree = true;
	p->own_pgrp = true;
	p->ignore_ttin_ttou = true;
	p->leftovers = LEFTOVERS_LEAVE;
	p->first_signal = first_signal;
}

/* What timeout's options ask for, but the invocation's own. */
struct gnu_settings {
	int first_signal;       /* -s */
	bool foreground;        /* -f */
	int64_t kill_after;     /* -k, 0: no KILL */
};

/* getopt_long's complaint about argv[optind - 1], in GNU's words. */
static void __dead2
bad_option(int opt, char **argv)
{
	if (opt == ':') {
		if (optopt >= OPT_FOREGROUND)
			usage_failure("option '--%s' requires an argument",
			    option_name(timeout_options, optopt));
		usage_failure("option requires an argument -- '%c'", optopt);
	}
	if (optopt >= OPT_FOREGROUND)
		usage_failure("option '--%s' doesn't allow an argument",
		    option_name(timeout_options, optopt));
	if (optopt != 0)
		usage_failure("invalid option -- '%c'", optopt);
	bad_long_option(argv[optind - 1]);
}

/* 1 when --help or --version was answered, else 0. */
static int
read_timeout_options(int argc, char **argv, struct invocation *o,
    struct gnu_settings *g)
{
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:fk:ps:v", timeout_options,
	    NULL)) != -1) {
		switch (opt) {
		case 'f':
		case OPT_FOREGROUND:
			g->foreground = true;
			break;
		case 'k':
		case OPT_KILL_AFTER:
			g->kill_after = gnu_duration(optarg);
			break;
		case 'p':
		case OPT_PRESERVE:
			o->preserve_status = true;
			break;
		case 's':
		case OPT_SIGNAL:
			if (parse_gnu_signal(optarg, &g->first_signal) == -1)
				usage_failure("%s: invalid signal", quoted(optarg));
			break;
		case 'v':
		case OPT_VERBOSE:
			o->verbose = true;
			break;
		case OPT_HELP:
			fputs(timeout_usage, stdout);
			return 1;
		case OPT_VERSION:
			printf("timeout (ctxrun) %s\n", CTXRUN_VERSION);
			return 1;
		default:
			bad_option(opt, argv);
		}
	}
	return 0;
}

/* Inside a ctxrun, timeout is a nested context like any other. */
static struct ctx *
timeout_context(struct invocation *o, int64_t timeout, int64_t kill_after)
{
	extern char **environ;
	struct ctx *inherited, *ctx;
	ctx_err err;

	if (ctx_from_env(environ, &inherited, &err) == -1)
		timeout_error("malformed inherited context: %s", err.msg);
	if ((ctx = ctx_new(inherited, o->argv[0])) == NULL)
		timeout_error("memory exhausted");
	ctx->deadline = timeout > 0 ? deadline_after(o->start, timeout) : CTX_NEVER;
	/* No KILL without -k, unless an enclosing ctxrun will send one: then
	 * timeout sends its own first, to reap its tree before. */
	ctx->grace = kill_after > 0 ? kill_after : CTX_NEVER;
	if (inherited != NULL)
		ctx->grace = nested_grace(ctx->grace, inherited->grace);
	/* Never a context that a nested ctxrun would refuse, nor variables
	 * that would make COMMAND unrunnable (E2BIG). */
	if (ctx_env_check(ctx, 0, o->argv, environ, &err) == -1)
		timeout_error("%s", err.msg);
	/* GNU starts COMMAND even when the limit is over before it could:
	 * "timeout -s 0 0.000001 cmd" runs cmd (and says 124).  Only a
	 * deadline inherited already past means not starting it, as for a
	 * nested ctxrun. */
	o->start_when_past = inherited == NULL || ctx_deadline(inherited) > mono_now();
	return ctx;
}

int
cmd_timeout(int argc, char **argv, int64_t start)
{
	struct invocation o = { .start = start, .gnu = true, .quiet = true,
	    .idle_timeout = CTX_NEVER };
	struct gnu_settings g = { .first_signal = SIGTERM };
	int64_t timeout;

	if (argv[0] != NULL && argv[0][0] != '\0')
		progname = argv[0];
	if (read_timeout_options(argc, argv, &o, &g) == 1)
		return 0;
	/* As GNU: without DURATION and COMMAND, only the Try line, and the
	 * duration is not looked at. */
	if (argc - optind < 2)
		usage_failure(NULL);
	timeout = gnu_duration(argv[optind]);
	o.argv = argv + optind + 1;
	o.prog = progname;
	gnu_policy(&o.policy, g.first_signal, g.kill_after > 0);
	o.policy.foreground = g.foreground;
	return run_in_context(&o, timeout_context(&o, timeout, g.kill_after));
}
