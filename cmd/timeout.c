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

int
cmd_timeout(int argc, char **argv, int64_t start)
{
	struct run_opts o = { .first_signal = SIGTERM, .start = start,
	    .gnu_timeout = true, .quiet = true };
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
			o.foreground = true;
			break;
		case 'k':
			if (parse_gnu_duration(optarg, &kill_after, &err) == -1)
				timeout_error("%s", err.msg);
			break;
		case 'p':
			o.preserve_status = true;
			break;
		case 's':
			if (parse_signal(optarg, &o.first_signal, &err) == -1)
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
