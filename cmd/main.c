/*
 * ctxrun: run a command under a context (deadline, values, cancellation)
 * and leave nothing of its process tree behind.  This file reads as a run
 * goes: parse the command line (options.c), build the context, run COMMAND
 * under lib/'s supervisor, speak of it (speak.c) and end (conclude.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../lib/ctxrun.h"
#include "cmd.h"

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

	int64_t now = mono_now();

	switch (job_deadline(environ, margin, mono_to_wall(now), now, start, &jd, &err)) {
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

/* The context's values, --value KEY=VALUE in order: a later one with the
 * same key wins. */
static void
attach_values(struct ctx *ctx, const struct cmdline *cl)
{
	for (size_t i = 0; i < cl->nvalues; i++) {
		char *eq = strchr(cl->values[i], '=');
		*eq = '\0';
		int rc = ctx_set_value(ctx, cl->values[i], eq + 1);
		*eq = '=';
		if (rc == -1)
			usage_error("out of memory");
	}
}

/* --on-timeout's limit: the hook delays the first signal, and so KILL, by
 * no more than it. */
static void
limit_hook(struct cmdline *cl, struct ctx *ctx)
{
	struct invocation *o = &cl->inv;

	if (cl->limit_given && o->on_timeout == NULL)
		usage_error("--on-timeout-limit: only with --on-timeout");
	/* By default half the grace the tree gets after it. */
	if (!cl->limit_given)
		o->on_timeout_limit = ctx->grace / 2;
	if (o->on_timeout != NULL && o->on_timeout_limit == 0)
		usage_error("--on-timeout: no time for the hook (with no grace period, "
		    "-k 0, give --on-timeout-limit)");
	/* Nested, the hook takes its time out of the grace (see HOOK). */
	if (ctx_nested(ctx) && o->on_timeout_limit > ctx->grace)
		o->on_timeout_limit = ctx->grace;
	if (o->on_timeout != NULL)
		ctx->hook_limit = o->on_timeout_limit;
}

/* This run's context, under the inherited one: its name, values, deadline
 * and grace, and the hook's share of the grace. */
static struct ctx *
build_context(struct cmdline *cl)
{
	extern char **environ;
	int64_t start = cl->inv.start, deadline = cl->deadline;
	int64_t margin = job_margin(cl->job_given, cl->job_arg);
	const char *name = cl->name, *cmd = cl->inv.argv[0];
	struct ctx *inherited, *ctx;
	ctx_err err;

	/* A malformed inherited context stops everything, before any change. */
	if (ctx_from_env(environ, &inherited, &err) == -1)
		usage_error("malformed inherited context: %s", err.msg);
	if (name == NULL) {
		name = strrchr(cmd, '/') ? strrchr(cmd, '/') + 1 : cmd;
		if (*name == '\0')
			name = cmd;
	}
	if ((ctx = ctx_new(inherited, name)) == NULL)
		usage_error("out of memory");
	attach_values(ctx, cl);
	/* The earliest of --timeout, --deadline and the inherited deadline. */
	if (cl->timeout != CTX_NEVER && deadline_after(start, cl->timeout) < deadline)
		deadline = deadline_after(start, cl->timeout);
	ctx->deadline = deadline;
	if (margin >= 0)
		add_job_deadline(ctx, margin, start);
	ctx->grace = inherited ? nested_grace(cl->grace, inherited->grace) : cl->grace;
	if (ctx->grace < 0)
		ctx->grace = 0;
	limit_hook(cl, ctx);
	return ctx;
}

/* --env and --unset in order, then whether COMMAND can start with that
 * environment and context. */
static void
export_environment(const struct cmdline *cl, const struct ctx *ctx)
{
	extern char **environ;
	ctx_err err;

	for (size_t i = 0; i < cl->nenv_ops; i++) {
		char *eq = strchr(cl->env_ops[i], '=');
		if (eq == NULL)
			unsetenv(cl->env_ops[i]);
		else {
			*eq = '\0';
			int rc = setenv(cl->env_ops[i], eq + 1, 1);
			*eq = '=';
			if (rc == -1)
				usage_error("--env: '%s': %s", cl->env_ops[i],
				    strerror(errno));
		}
	}
	/* Never a context that a nested ctxrun would refuse, nor variables
	 * that would make COMMAND unrunnable (E2BIG). */
	const struct retry_policy *rp = cl->inv.retry;
	unsigned attempts = rp != NULL && rp->retries > 0 ? rp->retries + 1 : 0;
	if (ctx_env_check(ctx, attempts, cl->inv.argv, environ, &err) == -1)
		usage_error("%s", err.msg);
}

/* ctxrun [OPTION]... COMMAND: parse, build the context, run, speak. */
static int
run(int argc, char **argv, int64_t start)
{
	/* Pointers into argv, so that an error exit has nothing to free. */
	char *env_ops[argc], *values[argc];
	struct cmdline cl = { .env_ops = env_ops, .values = values };
	struct ctx *ctx;

	if (parse_options(argc, argv, start, &cl) == 1)
		return 0;	/* --help, --version */
	ctx = build_context(&cl);
	export_environment(&cl, ctx);
	return run_in_context(&cl.inv, ctx);
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

/* Before ctxrun dies of COMMAND's signal, which would leave no report; a
 * report that cannot be written changes nothing else. */
static void
file_report(struct report *report, struct speaker *sp, const struct outcome *out,
    const struct ending *end)
{
	if (report_write(report, out, end) == -1)
		speak_line(sp, "cannot write the report to '%s': %s", report->path,
		    errno == ETIMEDOUT ? "not read within 1s" : strerror(errno));
	else if (report->unlocked)
		speak_line(sp, "the report's lock on '%s' was held elsewhere for 1s: "
		    "appended without it", report->path);
	report_free(report);
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
	if (o->report != NULL)
		file_report(&report, &sp, &out, &end);
	/* Lines a full stderr held back, given a moment: the tree is reaped,
	 * but a nested ctxrun's parent KILLs it at its own time. */
	bool nested = ctx_nested(ctx);
	ctx_free_tree(ctx);
	speak_flush(&sp, nested ? 100 : 1000);
	if (end.signal != 0)
		die_of(end.signal);
	return end.status;
}

/*
 * What ctxrun printed (a subcommand's answer, --help, --version) must have
 * reached stdout: a failed write is a failure, as GNU's close_stdout has
 * it (stdout closed, a full disk).  Nothing printed, nothing to check.
 * gnu: timeout's name, or NULL; what: the subcommand, or NULL.
 */
static bool
stdout_written(const char *gnu, const char *what)
{
	errno = 0;
	if (fflush(stdout) != EOF && !ferror(stdout))
		return true;
	int e = errno;
	if (gnu != NULL)
		fprintf(stderr, "%s: write error%s%s\n", gnu, e ? ": " : "",
		    e ? strerror(e) : "");
	else
		fprintf(stderr, "ctxrun: %s%swrite error on standard output%s%s\n",
		    what != NULL ? what : "", what != NULL ? ": " : "",
		    e ? ": " : "", e ? strerror(e) : "");
	return false;
}

/* Before anything reads the wall clock: an enclosing context's offset
 * between the clocks is taken as this one's (errors in it are reported
 * where the context is read). */
static void
adopt_inherited_clock(void)
{
	extern char **environ;
	struct ctx *c;
	ctx_err err;

	if (ctx_from_env(environ, &c, &err) == 0)
		ctx_free_tree(c);
}

int
main(int argc, char **argv)
{
	int64_t start = mono_now();
	adopt_inherited_clock();
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
	if (!stdout_written(gnu, what))
		return EXIT_CTX_FAILED;
	return status;
}
