/*
 * ctxrun: run a command under a context (deadline, values, cancellation)
 * and leave nothing of its process tree behind.  This file is the command
 * line; the work is in lib/.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/ctxrun.h"
#include "cmd.h"

static const char usage_text[] =
    "Usage: ctxrun [OPTION]... [--] COMMAND [ARG]...\n"
    "       ctxrun remaining [--ms]\n"
    "       ctxrun deadline [--epoch]\n"
    "       ctxrun value KEY\n"
    "       ctxrun show [--json]\n"
    "       ctxrun cancel [--cause TEXT] [--status N]\n"
    "       ctxrun retry --never [--cause TEXT] | --after DURATION\n"
    "       ctxrun timeout [-s SIG] [-k DURATION] [-p] [-f] [-v] DURATION COMMAND [ARG]...\n"
    "Run COMMAND under a context: when its deadline passes or it is cancelled,\n"
    "signal the whole process tree, wait, kill what is left, and reap it all.\n"
    "\n"
    "  -t, --timeout=DURATION     done DURATION after start (0: no timeout)\n"
    "  -d, --deadline=TIME        done at TIME (RFC 3339 or @EPOCH[.FRACTION])\n"
    "  -s, --signal=SIG           first signal sent when done (default TERM)\n"
    "  -k, --kill-after=DURATION  grace before KILL (default 10s)\n"
    "  -e, --env=NAME=VALUE       set an environment variable for COMMAND\n"
    "  -u, --unset=NAME           remove an environment variable\n"
    "      --value=KEY=VALUE      attach a value to the context\n"
    "  -n, --name=NAME            the context's name (default: COMMAND's)\n"
    "  -w, --wait                 when COMMAND exits, let its tree finish\n"
    "      --preserve-status      when done, exit with COMMAND's status, not 124\n"
    "      --foreground           keep COMMAND in ctxrun's process group\n"
    "  -r, --retries=N            up to N more attempts when COMMAND fails\n"
    "      --attempt-timeout=DURATION  each attempt's own deadline\n"
    "      --retry-on=LIST        what is retried: statuses, ranges (2-5),\n"
    "                             timeout, signal, any (default: non-zero but\n"
    "                             125-127, and timeout)\n"
    "      --retry-delay=DURATION first wait between attempts (default 1s),\n"
    "                             doubling up to --retry-max-delay (default 1m)\n"
    "      --retry-max-delay=DURATION\n"
    "      --no-retry-jitter      wait exactly that long, not a random 1/2-1\n"
    "      --replay-stdin         read stdin once; each attempt gets its bytes\n"
    "      --idle-timeout=DURATION  done when the tree writes nothing to stdout\n"
    "                             or stderr for DURATION (output is relayed)\n"
    "      --on-timeout=COMMAND   run sh -c COMMAND when the deadline or the idle\n"
    "                             timeout passes, before the tree is signalled\n"
    "      --on-timeout-limit=DURATION  how long the hook may take (default:\n"
    "                             half the grace period)\n"
    "      --warn=SIG@DURATION    send SIG to COMMAND DURATION before the deadline\n"
    "      --job-deadline[=MARGIN]  done MARGIN (default 30s) before the end of\n"
    "                             the CI job (GitLab, Slurm, Bazel, Buildkite)\n"
    "      --report=FILE          append a JSON line on the run to FILE\n"
    "  -v, --verbose              report every signal sent\n"
    "  -q, --quiet                say nothing when the context ends COMMAND\n"
    "  -h, --help                 show this help\n"
    "      --version              show the version\n"
    "\n"
    "DURATION: 90, 1.5s, 250ms, 2m, 1h30m, 1d (units ns us ms s m h d).\n"
    "Exit status: 124 deadline or cancel, 125 ctxrun failed, 126 COMMAND\n"
    "cannot run, 127 COMMAND not found, else COMMAND's status.\n"
    "See ctxrun(1) for subcommands, nesting and the environment.\n";

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

/* --job-deadline's margin, or CTXRUN_JOB_DEADLINE's when the option is not
 * given (empty: the default); -1 when neither switches it on. */
static int64_t
job_margin(bool given, const char *arg)
{
	const char *opt = given ? "--job-deadline" : JOB_DEADLINE_VAR;
	int64_t margin;
	ctx_err err;

	if (!given && (arg = getenv(JOB_DEADLINE_VAR)) == NULL)
		return -1;
	if (arg == NULL || (*arg == '\0' && !given))
		return JOB_MARGIN_DEFAULT;
	if (parse_duration(arg, &margin, &err) == -1)
		usage_error("%s: %s", opt, err.msg);
	return margin;
}

/* The CI job's deadline as the outermost context, named after the CI: the
 * messages, `show` and `remaining` then need nothing of their own for it.
 * Each ctxrun that is asked applies it anew, above its inherited chain;
 * it is never exported as a level, so it does not pile up when nested. */
static void
add_job_deadline(struct ctx *ctx, int64_t margin, int64_t start)
{
	extern char **environ;
	struct job_deadline jd;
	struct ctx *job;
	ctx_err err;

	switch (job_deadline(environ, margin, wall_now(), mono_now(), start, &jd, &err)) {
	case -1:
		usage_error("job deadline: %s", err.msg);
	case 0:
		return;
	}
	if ((job = ctx_new_root(ctx, jd.source)) == NULL)
		usage_error("out of memory");
	job->external = true;
	job->deadline = jd.deadline;
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

static int
run(int argc, char **argv, int64_t start)
{
	struct invocation o = { .start = start, .idle_timeout = CTX_NEVER };
	int64_t timeout = CTX_NEVER, deadline = CTX_NEVER, grace = 10 * NS_PER_SEC;
	const char *name = NULL;
	/* Arguments of --env/--unset and --value, in order: pointers into argv,
	 * so that an error exit has nothing to free. */
	char *env_ops[argc], *values[argc];
	size_t nenv_ops = 0, nvalues = 0;
	struct ctx *inherited, *ctx;
	ctx_err err;
	extern char **environ;
	/* Retries: any non-zero exit but 125-127 (trying again will not help
	 * a command that cannot run), and the attempt's own timeout. */
	struct retry_policy rp = { .attempt_timeout = CTX_NEVER, .on_timeout = true,
	    .delay = NS_PER_SEC, .max_delay = 60 * NS_PER_SEC, .jitter = true };
	bool retries_given = false, attempt_timeout_given = false, limit_given = false;
	bool job_given = false;
	const char *retry_opt = NULL, *job_arg = NULL;
	int opt;

	opterr = 0;
	ctxrun_policy(&o.policy);
	for (int st = 1; st <= 255; st++)
		if (st < 125 || st > 127)
			rp.on_exit[st / 8] |= (uint8_t)(1u << (st % 8));
	while ((opt = getopt_long(argc, argv, "+:t:d:s:k:e:u:n:r:wvqh",
	    long_options, NULL)) != -1) {
		switch (opt) {
		case 't': {
			/* Several combine to the earliest; 0 adds no timeout. */
			int64_t t;
			if (parse_duration(optarg, &t, &err) == -1)
				usage_error("--timeout: %s", err.msg);
			if (t > 0 && t < timeout)
				timeout = t;
			break;
		}
		case 'd': {
			int64_t at;
			if (parse_instant(optarg, &at, &err) == -1)
				usage_error("--deadline: %s", err.msg);
			/* On the monotonic clock from now on (see ASSUMPTIONS in ctxrun.1);
			 * saturating, for instants long before 1970. */
			int64_t d = time_add(mono_now(), time_add(at, -wall_now()));
			deadline = d < deadline ? d : deadline;
			break;
		}
		case 's':
			if (parse_signal(optarg, &o.policy.first_signal, &err) == -1)
				usage_error("--signal: %s", err.msg);
			break;
		case 'k':
			if (parse_duration(optarg, &grace, &err) == -1)
				usage_error("--kill-after: %s", err.msg);
			break;
		case 'e':
			check_env_arg("--env", optarg, true);
			env_ops[nenv_ops++] = optarg;
			break;
		case 'u':
			check_env_arg("--unset", optarg, false);
			env_ops[nenv_ops++] = optarg;
			break;
		case OPT_VALUE: {
			size_t n = strcspn(optarg, "=");
			if (optarg[n] != '=')
				usage_error("--value: '%s': expected KEY=VALUE", optarg);
			if (!is_identifier(optarg, n))
				usage_error("--value: '%.*s': KEY must be a shell identifier "
				    "(letters, digits, _; not starting with a digit)",
				    (int)n, optarg);
			values[nvalues++] = optarg;
			break;
		}
		case 'n':
			if (*optarg == '\0')
				usage_error("--name: empty name");
			name = optarg;
			break;
		case 'w':
			o.policy.leftovers = LEFTOVERS_WAIT;
			break;
		case OPT_PRESERVE:
			o.preserve_status = true;
			break;
		case OPT_FOREGROUND:
			o.policy.foreground = true;
			break;
		case 'v':
			o.verbose = true;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'r': {
			const char *errstr;
			rp.retries = (unsigned)strtonum(optarg, 0, MAX_ATTEMPTS - 1, &errstr);
			if (errstr != NULL)
				usage_error("--retries: '%s' is %s (0 to %u)", optarg, errstr,
				    MAX_ATTEMPTS - 1);
			retries_given = true;
			break;
		}
		case OPT_ATTEMPT_TIMEOUT:
			if (parse_duration(optarg, &rp.attempt_timeout, &err) == -1)
				usage_error("--attempt-timeout: %s", err.msg);
			if (rp.attempt_timeout == 0)
				rp.attempt_timeout = CTX_NEVER;
			attempt_timeout_given = true;
			break;
		case OPT_RETRY_ON:
			if (parse_retry_on(optarg, &rp, &err) == -1)
				usage_error("--retry-on: %s", err.msg);
			retry_opt = "--retry-on";
			break;
		case OPT_RETRY_DELAY:
			if (parse_duration(optarg, &rp.delay, &err) == -1)
				usage_error("--retry-delay: %s", err.msg);
			retry_opt = "--retry-delay";
			break;
		case OPT_RETRY_MAX_DELAY:
			if (parse_duration(optarg, &rp.max_delay, &err) == -1)
				usage_error("--retry-max-delay: %s", err.msg);
			retry_opt = "--retry-max-delay";
			break;
		case OPT_NO_RETRY_JITTER:
			rp.jitter = false;
			retry_opt = "--no-retry-jitter";
			break;
		case OPT_REPLAY_STDIN:
			rp.replay_stdin = true;
			retry_opt = "--replay-stdin";
			break;
		case OPT_IDLE_TIMEOUT: {
			/* As -t: several combine to the shortest; 0 adds none. */
			int64_t idle;
			if (parse_duration(optarg, &idle, &err) == -1)
				usage_error("--idle-timeout: %s", err.msg);
			if (idle > 0 && idle < o.idle_timeout)
				o.idle_timeout = idle;
			break;
		}
		case OPT_ON_TIMEOUT:
			if (*optarg == '\0')
				usage_error("--on-timeout: empty command");
			if (strcmp(optarg, "--") == 0)
				usage_error("--on-timeout: '--': not a command (is the value missing?)");
			o.on_timeout = optarg;
			break;
		case OPT_ON_TIMEOUT_LIMIT:
			if (parse_duration(optarg, &o.on_timeout_limit, &err) == -1)
				usage_error("--on-timeout-limit: %s", err.msg);
			limit_given = true;
			break;
		case OPT_WARN:
			if (o.nwarnings == MAX_WARNINGS)
				usage_error("--warn: at most %d warnings", MAX_WARNINGS);
			parse_warning(optarg, &o.warnings[o.nwarnings++]);
			break;
		case OPT_JOB_DEADLINE:
			/* The last one given counts, as for --kill-after. */
			job_given = true;
			job_arg = optarg;
			break;
		case OPT_REPORT:
			if (*optarg == '\0')
				usage_error("--report: empty file name");
			if (strcmp(optarg, "--") == 0)
				usage_error("--report: '--': not a file name (is the value missing?)");
			o.report = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case OPT_VERSION:
			printf("ctxrun %s\n", CTXRUN_VERSION);
			return 0;
		case ':':
			usage_error("option '%s' needs a value", argv[optind - 1]);
		default:
			if (optopt)
				usage_error("unknown option '-%c' (see ctxrun --help)", optopt);
			usage_error("unknown option '%s' (see ctxrun --help)", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		usage_error("missing command (see ctxrun --help)");
	if (o.verbose && o.quiet)
		usage_error("--verbose and --quiet contradict each other");
	/* Options of retries without --retries would do nothing: say so. */
	if (retry_opt != NULL && !retries_given)
		usage_error("%s: only with --retries", retry_opt);
	/* -r 0 makes one attempt: the other options of retries then have
	 * nothing to act on (a script may compute N); --attempt-timeout
	 * alone is one more deadline. */
	if (rp.retries > 0 || attempt_timeout_given)
		o.retry = &rp;
	if (rp.retries == 0)
		rp.replay_stdin = false;
	o.argv = argv + optind;
	int64_t margin = job_margin(job_given, job_arg);

	/* A malformed inherited context stops everything, before any change. */
	if (ctx_from_env(environ, &inherited, &err) == -1)
		usage_error("malformed inherited context: %s", err.msg);
	if (name == NULL) {
		name = strrchr(o.argv[0], '/') ? strrchr(o.argv[0], '/') + 1 : o.argv[0];
		if (*name == '\0')
			name = o.argv[0];
	}
	if ((ctx = ctx_new(inherited, name)) == NULL)
		usage_error("out of memory");
	for (size_t i = 0; i < nvalues; i++) {
		char *eq = strchr(values[i], '=');
		*eq = '\0';
		int rc = ctx_set_value(ctx, values[i], eq + 1);
		*eq = '=';
		if (rc == -1)
			usage_error("out of memory");
	}
	/* The earliest of --timeout, --deadline and the inherited deadline. */
	if (timeout != CTX_NEVER && time_add(start, timeout) < deadline)
		deadline = time_add(start, timeout);
	ctx->deadline = deadline;
	if (margin >= 0)
		add_job_deadline(ctx, margin, start);
	ctx->grace = inherited ? nested_grace(grace, inherited->grace) : grace;
	if (ctx->grace < 0)
		ctx->grace = 0;
	if (limit_given && o.on_timeout == NULL)
		usage_error("--on-timeout-limit: only with --on-timeout");
	/* The hook delays the first signal, and so KILL, by no more than its
	 * limit: by default half the grace the tree gets after it. */
	if (!limit_given)
		o.on_timeout_limit = ctx->grace / 2;
	if (o.on_timeout != NULL && o.on_timeout_limit == 0)
		usage_error("--on-timeout: no time for the hook (with no grace period, "
		    "-k 0, give --on-timeout-limit)");
	/* Nested, the hook takes its time out of the grace (see HOOK). */
	if (inherited != NULL && inherited->pid > 0 && o.on_timeout_limit > ctx->grace)
		o.on_timeout_limit = ctx->grace;
	if (o.on_timeout != NULL)
		ctx->hook_limit = o.on_timeout_limit;

	for (size_t i = 0; i < nenv_ops; i++) {
		char *eq = strchr(env_ops[i], '=');
		if (eq == NULL)
			unsetenv(env_ops[i]);
		else {
			*eq = '\0';
			int rc = setenv(env_ops[i], eq + 1, 1);
			*eq = '=';
			if (rc == -1)
				usage_error("--env: '%s': %s", env_ops[i], strerror(errno));
		}
	}
	/* Never a context that a nested ctxrun would refuse, nor variables
	 * that would make COMMAND unrunnable (E2BIG). */
	if (ctx_env_check(ctx, o.argv, environ, &err) == -1)
		usage_error("%s", err.msg);

	return run_in_context(&o, ctx);
}

/*
 * A caller may start ctxrun with standard input, output or error closed.
 * Its own descriptors (signalfd, sockets, stdin's copy) would then take
 * those numbers, and what it means for its standard streams would reach
 * them.  A close-on-exec /dev/null holds each place instead: COMMAND still
 * finds it closed, as the caller left it.  (Only to run a command: what
 * the subcommands print must fail on a closed stdout.)
 */
static void
hold_standard_descriptors(void)
{
	for (int fd = 0; fd <= 2; fd++)
		if (fcntl(fd, F_GETFD) == -1 && errno == EBADF &&
		    open("/dev/null", O_RDWR | O_CLOEXEC) != fd)
			_exit(EXIT_CTX_FAILED);	/* nothing sane is left to do */
}

/* Who hears of the supervisor's events: the speaker, and the report. */
struct listeners {
	struct speaker *sp;
	struct report *report;  /* NULL without --report */
};

static void
on_event(const struct event *ev, void *arg)
{
	struct listeners *l = arg;

	speak_event(ev, l->sp);
	if (l->report != NULL)
		report_event(l->report, ev);
}

int
run_in_context(struct invocation *o, struct ctx *ctx)
{
	struct speaker sp = { .gnu = o->gnu, .prog = o->prog, .verbose = o->verbose,
	    .quiet = o->quiet, .name = ctx->name, .command = o->argv[0],
	    .ctx = ctx, .retry = o->retry, .start = o->start,
	    .idle_timeout = o->idle_timeout };
	bool wait_tree = o->policy.leftovers == LEFTOVERS_WAIT;
	struct report report;
	struct listeners ls = { .sp = &sp, .report = o->report ? &report : NULL };
	struct run r = { .argv = o->argv, .ctx = ctx, .policy = &o->policy,
	    .retry = o->retry, .idle_timeout = o->idle_timeout,
	    .warnings = o->warnings, .nwarnings = o->nwarnings,
	    .on_timeout = o->on_timeout, .on_timeout_limit = o->on_timeout_limit,
	    .start = o->start, .on_event = on_event, .event_arg = &ls };
	struct outcome out;
	struct ending end;

	hold_standard_descriptors();
	if (o->report != NULL)
		report_begin(&report, o->report, ctx, o->argv, o->start, wait_tree);
	if (ctx_deadline(ctx) <= mono_now() && !o->start_when_past) {
		conclude_unstarted(&sp, ctx, &out, &end);
	} else {
		supervise(&r, &out);
		conclude(&sp, &out, o->argv, o->preserve_status, wait_tree, &end);
	}
	/* Before ctxrun dies of COMMAND's signal, which would leave no
	 * report; a report that cannot be written changes nothing else. */
	if (o->report != NULL) {
		if (report_write(&report, &out, &end) == -1)
			speak_line(&sp, "cannot write the report to '%s': %s", o->report,
			    strerror(errno));
		report_free(&report);
	}
	/* Lines a full stderr held back, given a moment: the tree is reaped,
	 * but a nested ctxrun's parent KILLs it at its own time. */
	bool nested = ctx->parent != NULL && ctx->parent->pid > 0;
	ctx_free_tree(ctx);
	speak_flush(&sp, nested ? 100 : 1000);
	if (end.signal != 0)
		die_of(end.signal);
	return end.status;
}

int
main(int argc, char **argv)
{
	int64_t start = mono_now();
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} subcommands[] = {
		{ "remaining", cmd_remaining },
		{ "deadline", cmd_deadline },
		{ "value", cmd_value },
		{ "show", cmd_show },
		{ "cancel", cmd_cancel },
		{ "retry", cmd_retry },
	};

	const char *base = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
	const char *what = NULL;
	int status;

	/* Through a link named timeout, ctxrun is timeout. */
	const char *gnu = NULL;	/* GNU timeout's name for itself */
	if (strcmp(base, "timeout") == 0)
		status = cmd_timeout(argc, argv, start), gnu = argv[0];
	else if (argc > 1 && strcmp(argv[1], "timeout") == 0)
		status = cmd_timeout(argc - 1, argv + 1, start), gnu = "timeout";
	else {
		int (*fn)(int, char **) = NULL;
		for (size_t i = 0; i < sizeof(subcommands) / sizeof(subcommands[0]); i++)
			if (argc > 1 && strcmp(argv[1], subcommands[i].name) == 0) {
				what = argv[1];
				fn = subcommands[i].fn;
			}
		status = fn != NULL ? fn(argc - 1, argv + 1) : run(argc, argv, start);
	}
	/* What ctxrun printed (a subcommand's answer, --help, --version) must
	 * have reached stdout: a failed write is a failure, as GNU's
	 * close_stdout has it (stdout closed, a full disk).  Nothing printed,
	 * nothing to check. */
	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout)) {
		int e = errno;
		if (gnu != NULL)
			fprintf(stderr, "%s: write error%s%s\n", gnu, e ? ": " : "",
			    e ? strerror(e) : "");
		else
			fprintf(stderr, "ctxrun: %s%swrite error on standard output%s%s\n",
			    what != NULL ? what : "", what != NULL ? ": " : "",
			    e ? ": " : "", e ? strerror(e) : "");
		return EXIT_CTX_FAILED;
	}
	return status;
}
