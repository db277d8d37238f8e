/*
 * ctxrun's command line: its options, read into a struct cmdline and
 * checked on their own.  What they add up to (the context, its deadline,
 * the environment) is main.c's: it needs the inherited context.
 */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../lib/ctxrun.h"
#include "cmd.h"

void
usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("ctxrun: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(EXIT_CTX_FAILED);
}

enum { OPT_VALUE = 256, OPT_PRESERVE, OPT_FOREGROUND, OPT_VERSION,
    OPT_ATTEMPT_TIMEOUT, OPT_RETRY_ON, OPT_RETRY_DELAY, OPT_RETRY_MAX_DELAY,
    OPT_NO_RETRY_JITTER, OPT_REPLAY_STDIN, OPT_IDLE_TIMEOUT, OPT_JOB_DEADLINE,
    OPT_ON_TIMEOUT, OPT_ON_TIMEOUT_LIMIT, OPT_WARN, OPT_REPORT };

static const struct option long_options[] = {
	{ "timeout", required_argument, NULL, 't' },
	{ "deadline", required_argument, NULL, 'd' },
	{ "signal", required_argument, NULL, 's' },
	{ "kill-after", required_argument, NULL, 'k' },
	{ "env", required_argument, NULL, 'e' },
	{ "unset", required_argument, NULL, 'u' },
	{ "value", required_argument, NULL, OPT_VALUE },
	{ "name", required_argument, NULL, 'n' },
	{ "wait", no_argument, NULL, 'w' },
	{ "preserve-status", no_argument, NULL, OPT_PRESERVE },
	{ "foreground", no_argument, NULL, OPT_FOREGROUND },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "retries", required_argument, NULL, 'r' },
	{ "attempt-timeout", required_argument, NULL, OPT_ATTEMPT_TIMEOUT },
	{ "retry-on", required_argument, NULL, OPT_RETRY_ON },
	{ "retry-delay", required_argument, NULL, OPT_RETRY_DELAY },
	{ "retry-max-delay", required_argument, NULL, OPT_RETRY_MAX_DELAY },
	{ "no-retry-jitter", no_argument, NULL, OPT_NO_RETRY_JITTER },
	{ "replay-stdin", no_argument, NULL, OPT_REPLAY_STDIN },
	{ "idle-timeout", required_argument, NULL, OPT_IDLE_TIMEOUT },
	{ "on-timeout", required_argument, NULL, OPT_ON_TIMEOUT },
	{ "on-timeout-limit", required_argument, NULL, OPT_ON_TIMEOUT_LIMIT },
	{ "warn", required_argument, NULL, OPT_WARN },
	{ "job-deadline", optional_argument, NULL, OPT_JOB_DEADLINE },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

/* The context's own variables; CTXRUN_JOB_DEADLINE is a setting that a
 * CI configuration or --env may give nested ctxruns, not context. */
static bool
reserved_name(const char *name)
{
	size_t n = strcspn(name, "=");

	if (n == strlen(JOB_DEADLINE_VAR) && strncmp(name, JOB_DEADLINE_VAR, n) == 0)
		return false;
	return strncmp(name, "CTXRUN_", 7) == 0;
}

/* NAME=VALUE or NAME, checked; returns the length of NAME. */
static size_t
check_env_arg(const char *opt, const char *arg, bool with_value)
{
	size_t n = strcspn(arg, "=");

	if (n == 0)
		usage_error("%s: '%s': empty variable name", opt, arg);
	if (with_value && arg[n] != '=')
		usage_error("%s: '%s': expected NAME=VALUE", opt, arg);
	if (!with_value && arg[n] == '=')
		usage_error("%s: '%s': expected a NAME without '='", opt, arg);
	if (reserved_name(arg))
		usage_error("%s: '%s': CTXRUN_ variables belong to the context", opt, arg);
	return n;
}

/* ctxrun's own policy: every signal but job control is taken; INT (unless
 * typed at the terminal), TERM and HUP end the context, the rest go to
 * COMMAND; the tree is told once. */
static void
ctxrun_policy(struct policy *p)
{
	sigemptyset(&p->caught);
	for (int sig = 1; sig <= SIGRTMAX; sig++) {
		switch (sig) {
		case SIGKILL: case SIGSTOP: case SIGTSTP: case SIGTTIN: case SIGTTOU:
		case SIGCONT:
			continue;
		}
		/* 32 and 33 belong to glibc's threads. */
		if (sig >= 32 && sig < SIGRTMIN)
			continue;
		sigaddset(&p->caught, sig);
	}
	sigemptyset(&p->keep_caught);
	sigemptyset(&p->as_deadline);
	sigemptyset(&p->ending);
	sigaddset(&p->ending, SIGINT);
	sigaddset(&p->ending, SIGTERM);
	sigaddset(&p->ending, SIGHUP);
	p->tell_once = true;
	p->leftovers = LEFTOVERS_CANCEL;
	p->first_signal = SIGTERM;
}

/* --warn=SIG@DURATION; DURATION more than 0, or it would come with the
 * first signal. */
static void
parse_warning(const char *arg, struct warning *w)
{
	const char *at = strrchr(arg, '@');
	char sig[32];
	ctx_err err;

	if (at == NULL)
		usage_error("--warn: '%s': expected SIG@DURATION (USR1@2m)", arg);
	if ((size_t)(at - arg) >= sizeof(sig) || at == arg)
		usage_error("--warn: '%s': expected a signal before '@'", arg);
	snprintf(sig, sizeof(sig), "%.*s", (int)(at - arg), arg);
	if (parse_signal(sig, &w->sig, &err) == -1)
		usage_error("--warn: %s", err.msg);
	if (w->sig == 0)
		usage_error("--warn: '%s': signal 0 sends nothing", arg);
	if (w->sig == SIGKILL || w->sig == SIGSTOP)
		usage_error("--warn: '%s': %s cannot be caught, it warns of nothing", arg,
		    w->sig == SIGKILL ? "KILL" : "STOP");
	if (parse_duration(at + 1, &w->before, &err) == -1)
		usage_error("--warn: %s", err.msg);
	if (w->before == 0)
		usage_error("--warn: '%s': 0 before the deadline is the deadline itself", arg);
}

/* What only check_options() needs to know of the options given. */
struct seen {
	bool retries, attempt_timeout;
	const char *retry_opt;  /* an option of retries, for "only with -r" */
};

const char *
option_name(const struct option *table, int val)
{
	for (const struct option *o = table; o->name != NULL; o++)
		if (o->val == val)
			return o->name;
	return "?";
}

/* -t, -d, -s, -k, --idle-timeout, --job-deadline: when the context is
 * done, and what it sends then. */
static bool
time_option(struct cmdline *cl, int opt, const char *arg)
{
	int64_t t;
	ctx_err err;

	switch (opt) {
	case 't':
		/* Several combine to the earliest; 0 adds no timeout. */
		if (parse_duration(arg, &t, &err) == -1)
			usage_error("--timeout: %s", err.msg);
		if (t > 0 && t < cl->timeout)
			cl->timeout = t;
		return true;
	case 'd':
		if (parse_instant(arg, &t, &err) == -1)
			usage_error("--deadline: %s", err.msg);
		/* On the monotonic clock from now on (see ASSUMPTIONS in ctxrun.1),
		 * through the one offset between the clocks; saturating, for
		 * instants long before 1970. */
		t = deadline_after(-wall_offset(), t);
		cl->deadline = t < cl->deadline ? t : cl->deadline;
		return true;
	case 's':
		if (parse_signal(arg, &cl->inv.policy.first_signal, &err) == -1)
			usage_error("--signal: %s", err.msg);
		return true;
	case 'k':
		if (parse_duration(arg, &cl->grace, &err) == -1)
			usage_error("--kill-after: %s", err.msg);
		return true;
	case OPT_IDLE_TIMEOUT:
		/* As -t: several combine to the shortest; 0 adds none. */
		if (parse_duration(arg, &t, &err) == -1)
			usage_error("--idle-timeout: %s", err.msg);
		if (t > 0 && t < cl->inv.idle_timeout)
			cl->inv.idle_timeout = t;
		return true;
	case OPT_JOB_DEADLINE:
		/* The last one given counts, as for --kill-after. */
		cl->job_given = true;
		cl->job_arg = arg;
		return true;
	}
	return false;
}

/* -e, -u, --value, -n: what COMMAND and the nested ctxruns see. */
static bool
environment_option(struct cmdline *cl, int opt, char *arg)
{
	size_t n;

	switch (opt) {
	case 'e':
		check_env_arg("--env", arg, true);
		cl->env_ops[cl->nenv_ops++] = arg;
		return true;
	case 'u':
		check_env_arg("--unset", arg, false);
		cl->env_ops[cl->nenv_ops++] = arg;
		return true;
	case OPT_VALUE:
		n = strcspn(arg, "=");
		if (arg[n] != '=')
			usage_error("--value: '%s': expected KEY=VALUE", arg);
		if (!is_identifier(arg, n))
			usage_error("--value: '%.*s': KEY must be a shell identifier "
			    "(letters, digits, _; not starting with a digit)",
			    (int)n, arg);
		cl->values[cl->nvalues++] = arg;
		return true;
	case 'n':
		if (*arg == '\0')
			usage_error("--name: empty name");
		cl->name = arg;
		return true;
	}
	return false;
}

/* -w, --preserve-status, --foreground, -v, -q, --report: how the tree is
 * run and how ctxrun tells of it. */
static bool
conduct_option(struct cmdline *cl, int opt, const char *arg)
{
	switch (opt) {
	case 'w':
		cl->inv.policy.leftovers = LEFTOVERS_WAIT;
		return true;
	case OPT_PRESERVE:
		cl->inv.preserve_status = true;
		return true;
	case OPT_FOREGROUND:
		cl->inv.policy.foreground = true;
		return true;
	case 'v':
		cl->inv.verbose = true;
		return true;
	case 'q':
		cl->inv.quiet = true;
		return true;
	case OPT_REPORT:
		if (*arg == '\0')
			usage_error("--report: empty file name");
		if (strcmp(arg, "--") == 0)
			usage_error("--report: '--': not a file name (is the value missing?)");
		cl->inv.report = arg;
		return true;
	}
	return false;
}

/* -r and the options that shape the retries. */
static bool
retry_option(struct cmdline *cl, struct seen *seen, int opt, const char *arg)
{
	struct retry_policy *rp = &cl->rp;
	const char *errstr;
	ctx_err err;

	switch (opt) {
	case 'r':
		rp->retries = (unsigned)strtonum(arg, 0, MAX_ATTEMPTS - 1, &errstr);
		if (errstr != NULL)
			usage_error("--retries: '%s' is %s (0 to %u)", arg, errstr,
			    MAX_ATTEMPTS - 1);
		seen->retries = true;
		return true;
	case OPT_ATTEMPT_TIMEOUT:
		if (parse_duration(arg, &rp->attempt_timeout, &err) == -1)
			usage_error("--attempt-timeout: %s", err.msg);
		if (rp->attempt_timeout == 0)
			rp->attempt_timeout = CTX_NEVER;
		seen->attempt_timeout = true;
		return true;
	case OPT_RETRY_ON:
		if (parse_retry_on(arg, rp, &err) == -1)
			usage_error("--retry-on: %s", err.msg);
		break;
	case OPT_RETRY_DELAY:
		if (parse_duration(arg, &rp->delay, &err) == -1)
			usage_error("--retry-delay: %s", err.msg);
		break;
	case OPT_RETRY_MAX_DELAY:
		if (parse_duration(arg, &rp->max_delay, &err) == -1)
			usage_error("--retry-max-delay: %s", err.msg);
		break;
	case OPT_NO_RETRY_JITTER:
		rp->jitter = false;
		break;
	case OPT_REPLAY_STDIN:
		rp->replay_stdin = true;
		break;
	default:
		return false;
	}
	seen->retry_opt = option_name(long_options, opt);
	return true;
}

/* --on-timeout, --on-timeout-limit, --warn: what COMMAND gets before the
 * first signal. */
static bool
before_option(struct cmdline *cl, int opt, const char *arg)
{
	struct invocation *o = &cl->inv;
	ctx_err err;

	switch (opt) {
	case OPT_ON_TIMEOUT:
		if (*arg == '\0')
			usage_error("--on-timeout: empty command");
		if (strcmp(arg, "--") == 0)
			usage_error("--on-timeout: '--': not a command (is the value missing?)");
		o->on_timeout = arg;
		return true;
	case OPT_ON_TIMEOUT_LIMIT:
		if (parse_duration(arg, &o->on_timeout_limit, &err) == -1)
			usage_error("--on-timeout-limit: %s", err.msg);
		cl->limit_given = true;
		return true;
	case OPT_WARN:
		if (o->nwarnings == MAX_WARNINGS)
			usage_error("--warn: at most %d warnings", MAX_WARNINGS);
		parse_warning(arg, &o->warnings[o->nwarnings++]);
		return true;
	}
	return false;
}

/* The option getopt_long refused, named as it was typed (typed: the
 * argument it was parsing, a cluster like -qZ included), quoted so that a
 * control byte shows as \ooo. */
static void __dead2
bad_option(int opt, const char *typed)
{
	char q[512];

	if (strncmp(typed, "--", 2) == 0 && typed[2] != '\0') {
		size_t n = strcspn(typed + 2, "=");
		const struct option *match = NULL;
		int matches = 0;
		for (const struct option *o = long_options; o->name != NULL; o++) {
			if (strncmp(o->name, typed + 2, n) != 0)
				continue;
			match = o;
			if (strlen(o->name) == n) {
				matches = 1;
				break;
			}
			matches++;
		}
		gnu_quote(typed, q, sizeof(q));
		if (opt == ':')
			usage_error("option %s needs a value", q);
		if (matches > 1)
			usage_error("option %s is ambiguous (see ctxrun --help)", q);
		if (matches == 1 && typed[2 + n] == '=')
			usage_error("option %s: --%s takes no value", q, match->name);
		usage_error("unknown option %s (see ctxrun --help)", q);
	}
	char one[3] = { '-', (char)optopt, '\0' };
	gnu_quote(one, q, sizeof(q));
	if (opt == ':')
		usage_error("option %s needs a value", q);
	usage_error("unknown option %s (see ctxrun --help)", q);
}

/* What the options mean together, once all are read. */
static void
check_options(struct cmdline *cl, const struct seen *seen, int argc,
    char **argv)
{
	if (optind >= argc)
		usage_error("missing command (see ctxrun --help)");
	if (cl->inv.verbose && cl->inv.quiet)
		usage_error("--verbose and --quiet contradict each other");
	/* Options of retries without --retries would do nothing: say so. */
	if (seen->retry_opt != NULL && !seen->retries)
		usage_error("--%s: only with --retries", seen->retry_opt);
	/* -r 0 makes one attempt: the other options of retries then have
	 * nothing to act on (a script may compute N); --attempt-timeout
	 * alone is one more deadline. */
	if (cl->rp.retries > 0 || seen->attempt_timeout)
		cl->inv.retry = &cl->rp;
	if (cl->rp.retries == 0)
		cl->rp.replay_stdin = false;
	cl->inv.argv = argv + optind;
}

/* Retries: any non-zero exit but 125-127 (trying again will not help a
 * command that cannot run), and the attempt's own timeout. */
static void
default_retries(struct retry_policy *rp)
{
	*rp = (struct retry_policy){ .attempt_timeout = CTX_NEVER,
	    .on_timeout = true, .delay = NS_PER_SEC, .max_delay = 60 * NS_PER_SEC,
	    .jitter = true };
	for (int st = 1; st <= 255; st++)
		if (st < 125 || st > 127)
			rp->on_exit[st / 8] |= (uint8_t)(1u << (st % 8));
}

int
parse_options(int argc, char **argv, int64_t start, struct cmdline *cl)
{
	struct seen seen = { 0 };
	int opt;

	cl->inv = (struct invocation){ .start = start, .idle_timeout = CTX_NEVER };
	cl->timeout = cl->deadline = CTX_NEVER;
	cl->grace = 10 * NS_PER_SEC;
	ctxrun_policy(&cl->inv.policy);
	default_retries(&cl->rp);
	opterr = 0;
	/* The argument getopt_long parses next: a short option's cluster
	 * keeps optind where it is until its last letter. */
	for (int at = optind; (opt = getopt_long(argc, argv, "+:t:d:s:k:e:u:n:r:wvqh",
	    long_options, NULL)) != -1; at = optind) {
		if (opt == 'h') {
			fputs(ctxrun_usage, stdout);
			return 1;
		}
		if (opt == OPT_VERSION) {
			printf("ctxrun %s\n", CTXRUN_VERSION);
			return 1;
		}
		if (!time_option(cl, opt, optarg) &&
		    !environment_option(cl, opt, optarg) &&
		    !conduct_option(cl, opt, optarg) &&
		    !retry_option(cl, &seen, opt, optarg) &&
		    !before_option(cl, opt, optarg))
			bad_option(opt, at < argc ? argv[at] : "");
	}
	check_options(cl, &seen, argc, argv);
	return 0;
}
