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

/* One line "timeout: ..." and 125: nothing was started. */
static void __dead2 timeout_error(const char *fmt, ...) __printflike(1, 2);

static void
timeout_error(const char *fmt, ...)
{
	va_list ap;

	fputs("timeout: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_CTX_FAILED);
}

enum { OPT_HELP = 256, OPT_VERSION };

static const struct option timeout_options[] = {
	{ "foreground", no_argument, NULL, 'f' },
	{ "kill-after", required_argument, NULL, 'k' },
	{ "preserve-status", no_argument, NULL, 'p' },
	{ "signal", required_argument, NULL, 's' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, OPT_HELP },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

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

int
cmd_timeout(int argc, char **argv, int64_t start)
{
	struct invocation o = { .start = start, .gnu = true, .quiet = true };
	int first_signal = SIGTERM;
	bool foreground = false;
	int64_t timeout, kill_after = 0;
	struct ctx *inherited, *ctx;
	extern char **environ;
	ctx_err err;
	int opt;

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, "+:fk:ps:v", timeout_options,
	    NULL)) != -1) {
		switch (opt) {
		case 'f':
			foreground = true;
			break;
		case 'k':
			if (parse_gnu_duration(optarg, &kill_after, &err) == -1)
				timeout_error("%s", err.msg);
			break;
		case 'p':
			o.preserve_status = true;
			break;
		case 's':
			if (parse_signal(optarg, &first_signal, &err) == -1)
				timeout_error("'%s': invalid signal", optarg);
			break;
		case 'v':
			o.verbose = true;
			break;
		case OPT_HELP:
			fputs(timeout_usage, stdout);
			return 0;
		case OPT_VERSION:
			printf("timeout (ctxrun) %s\n", CTXRUN_VERSION);
			return 0;
		case ':':
			timeout_error("option '%s' requires an argument", argv[optind - 1]);
		default:
			if (optopt)
				timeout_error("invalid option -- '%c'", optopt);
			timeout_error("unrecognized option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 1)
		timeout_error("missing operand");
	if (parse_gnu_duration(argv[optind], &timeout, &err) == -1)
		timeout_error("%s", err.msg);
	if (argc - optind < 2)
		timeout_error("missing operand after '%s'", argv[optind]);
	o.argv = argv + optind + 1;
	gnu_policy(&o.policy, first_signal, kill_after > 0);
	o.policy.foreground = foreground;

	/* Inside a ctxrun, timeout is a nested context like any other. */
	if (ctx_from_env(environ, &inherited, &err) == -1)
		timeout_error("malformed inherited context: %s", err.msg);
	if ((ctx = ctx_new(inherited, o.argv[0])) == NULL)
		timeout_error("out of memory");
	ctx->deadline = timeout > 0 ? time_add(start, timeout) : CTX_NEVER;
	/* No KILL without -k, unless an enclosing ctxrun will send one: then
	 * timeout sends its own first, to reap its tree before. */
	ctx->grace = kill_after > 0 ? kill_after : CTX_NEVER;
	if (inherited != NULL)
		ctx->grace = nested_grace(ctx->grace, inherited->grace);
	return run_in_context(&o, ctx);
}
