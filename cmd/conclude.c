/*
 * How ctxrun ends: what supervise() says happened becomes ctxrun's last
 * line and its exit status, or a death by COMMAND's signal.  The decision
 * comes before the exit, so that a report can be written between the two.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../lib/ctxrun.h"
#include "cmd.h"

void
die_of(int sig)
{
	struct rlimit none = { 0, 0 };
	sigset_t only;

	/* No core dump: COMMAND's was the one that mattered. */
	prctl(PR_SET_DUMPABLE, 0);
	setrlimit(RLIMIT_CORE, &none);
	signal(sig, SIG_DFL);
	sigemptyset(&only);
	sigaddset(&only, sig);
	raise(sig);
	sigprocmask(SIG_UNBLOCK, &only, NULL);
	/* Still here: a signal whose default is to ignore or stop, or ctxrun
	 * is PID 1 of a namespace.  The shell's convention is the next best. */
	_exit(128 + sig);
}

/* The line that says why nothing ran, and the exit status. */
static int
failure_line(const struct speaker *sp, const struct outcome *o, char **argv,
    char *why, size_t len)
{
	switch (o->failure) {
	case RUN_FD_LIMIT:
		snprintf(why, len, "the limit of %d open files is too low to supervise "
		    "a tree (%d needed)", o->err, FDS_NEEDED);
		return EXIT_CTX_FAILED;
	case RUN_SETUP:
		snprintf(why, len, "cannot set up supervision: %s", strerror(o->err));
		return EXIT_CTX_FAILED;
	case RUN_FORK:
		snprintf(why, len, "cannot start a process: %s", strerror(o->err));
		return EXIT_CTX_FAILED;
	case RUN_EXEC:
		if (sp->gnu) {
			char q[512];
			gnu_quote(argv[0], q, sizeof(q));
			snprintf(why, len, "failed to run command %s: %s", q,
			    strerror(o->err));
		}
		else
			snprintf(why, len, "cannot run '%s': %s", argv[0], strerror(o->err));
		return o->err == ENOENT || o->err == ENOTDIR ? EXIT_NOT_FOUND :
		    EXIT_CANNOT_RUN;
	default:
		return EXIT_CTX_FAILED;
	}
}

/* GNU timeout's exit status: 124 once timed out (unless
 * --preserve-status), 128+N for a signal, 137 when KILL was needed, and
 * its own death by COMMAND's signal when it did not time out. */
static void
conclude_gnu(const struct outcome *o, bool preserve, struct ending *end)
{
	bool timed_out = cause_names(o->cause)->by_context;
	int status = o->command_status;

	if (!o->started) {
		if (o->cause == DONE_SIGNAL)
			end->signal = o->signal;
		end->status = EXIT_CTX_DONE;
		return;
	}
	if (o->command_code != CLD_EXITED) {
		if (!timed_out) {
			end->signal = o->command_status;
			return;
		}
		if (o->command_status == SIGKILL)
			preserve = true;
		status = 128 + o->command_status;
	}
	if (timed_out && !preserve)
		end->status = o->cause == DONE_CANCEL ? o->asked.cancel_status : EXIT_CTX_DONE;
	else
		end->status = status;
}

/* What ctxrun says when the context ended COMMAND. */
static void
say_why(const struct speaker *sp, const struct outcome *o, char *buf, size_t len)
{
	const struct ctx *c = sp->ctx, *owner = ctx_deadline_owner(c);
	char d[40];

	switch (o->cause) {
	case DONE_CANCEL:
		snprintf(buf, len, "cancelled: %s", o->asked.cancel_text[0] ? o->asked.cancel_text :
		    "ctxrun cancel");
		break;
	case DONE_PARENT_CANCEL:
		snprintf(buf, len, "cancelled by the enclosing context '%s'",
		    c->parent ? c->parent->name : "?");
		break;
	case DONE_PARENT_GONE:
		snprintf(buf, len, "cancelled: the enclosing ctxrun '%s' (pid %d) was killed",
		    c->parent ? c->parent->name : "?", c->parent ? (int)c->parent->pid : 0);
		break;
	case DONE_IDLE:
		format_duration(sp->idle_timeout, d, sizeof(d));
		if (o->attempts > 0)
			snprintf(buf, len, "idle for %s (attempt %u/%u)", d, o->attempt,
			    o->attempts);
		else
			snprintf(buf, len, "idle for %s", d);
		break;
	default: {
		char attempt[40] = "";
		if (o->attempts > 0)
			snprintf(attempt, sizeof(attempt), ", attempt %u/%u",
			    o->attempt, o->attempts);
		if (o->attempt_timed_out) {
			format_duration(sp->retry->attempt_timeout, d, sizeof(d));
			/* --attempt-timeout without retries: one attempt, one
			 * more deadline. */
			if (o->attempts == 0)
				snprintf(buf, len, "deadline exceeded after %s "
				    "(--attempt-timeout)", d);
			else
				snprintf(buf, len, "attempt %u/%u timed out after %s",
				    o->attempt, o->attempts, d);
			break;
		}
		/* The budget this ctxrun had, rounded down to the millisecond
		 * (a -t budget is exact: its deadline counts from the start). */
		int64_t budget = ctx_deadline(c) - sp->start;
		format_duration(budget - budget % NS_PER_MS, d, sizeof(d));
		if (owner == c && o->attempts > 0)
			snprintf(buf, len, "deadline exceeded after %s (attempt %u/%u)", d,
			    o->attempt, o->attempts);
		else if (owner == c)
			snprintf(buf, len, "deadline exceeded after %s", d);
		else
			snprintf(buf, len, "deadline exceeded after %s (inherited from '%s'%s)",
			    d, owner->name, attempt);
	}
	}
}

/* ctxrun's status, or the signal it dies of; the cause is what it says. */
static void
decide(struct speaker *sp, const struct outcome *o, bool preserve,
    bool wait_tree, struct ending *end)
{
	bool exited = o->command_code == CLD_EXITED;

	if (how_ended(o, wait_tree) == ENDED_BY_CONTEXT) {
		say_why(sp, o, end->cause, sizeof(end->cause));
		if (preserve && o->started)
			end->status = exited ? o->command_status : 128 + o->command_status;
		else
			end->status = o->cause == DONE_CANCEL ? o->asked.cancel_status :
			    EXIT_CTX_DONE;
	} else if (!o->started && o->cause == DONE_SIGNAL)
		end->signal = o->signal;
	else if (exited)
		end->status = o->command_status;
	else if (o->cause == DONE_SIGNAL && o->command_alive_at_done)
		end->signal = o->signal;
	else if (outcome_warned(o, o->command_status))
		/* Of ctxrun's own --warn signal: not a death to pass on to the
		 * caller as if the signal had come from outside. */
		end->status = 128 + o->command_status;
	else
		end->signal = o->command_status;
}

void
conclude(struct speaker *sp, const struct outcome *o, char **argv,
    bool preserve, bool wait_tree, struct ending *end)
{
	*end = (struct ending){ 0 };
	if (o->failure != RUN_OK) {
		end->status = failure_line(sp, o, argv, end->cause, sizeof(end->cause));
		speak_failure(sp, "%s", end->cause);
	} else if (sp->gnu)
		conclude_gnu(o, preserve, end);
	else {
		decide(sp, o, preserve, wait_tree, end);
		/* Where the retries stopped, that line said it already, and is
		 * the cause. */
		if (sp->stopped[0] != '\0')
			strlcpy(end->cause, sp->stopped, sizeof(end->cause));
		else if (end->cause[0] != '\0' && !sp->quiet)
			speak_line(sp, "%s", end->cause);
	}
}

/* The deadline passed before COMMAND could start: it is not started, and
 * the line says whose deadline it was. */
void
conclude_unstarted(struct speaker *sp, const struct ctx *ctx,
    struct outcome *o, struct ending *end)
{
	const struct ctx *owner = ctx_deadline_owner(ctx);

	*o = (struct outcome){ .cause = DONE_DEADLINE,
	    .command_alive_at_done = true };
	*end = (struct ending){ .status = EXIT_CTX_DONE };
	if (owner == ctx)
		strlcpy(end->cause, "deadline already passed, not started",
		    sizeof(end->cause));
	else
		snprintf(end->cause, sizeof(end->cause), "deadline already passed "
		    "(inherited from '%s'), not started", owner->name);
	if (!sp->quiet)
		speak_line(sp, "%s", end->cause);
}
