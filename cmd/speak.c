/*
 * What ctxrun says, and how it ends: the supervisor's events and outcome
 * turned into lines on stderr, in ctxrun's words or GNU timeout's, and into
 * an exit status or a death by signal.
 *
 * A line is one write(2).  When stderr is gone (a closed pipe, a full disk)
 * ctxrun stops talking: nothing it fails to say changes what it does to the
 * tree or how it exits.  The SIGPIPE such a write raises is blocked and
 * dropped by the supervisor.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../lib/ctxrun.h"
#include "cmd.h"

static void say(struct speaker *sp, const char *line, size_t n);

static void
vspeak(struct speaker *sp, bool named, const char *fmt, va_list ap)
{
	char line[1024];
	int n = 0;

	if (sp->stderr_broken)
		return;
	if (sp->gnu)
		n = snprintf(line, sizeof(line), "%s: ", sp->prog);
	else if (named)
		n = snprintf(line, sizeof(line), "ctxrun: %s: ", sp->name);
	else
		n = snprintf(line, sizeof(line), "ctxrun: ");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	int m = vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	if (m < 0)
		return;
	n += m;
	if ((size_t)n > sizeof(line) - 2)
		n = sizeof(line) - 2;
	line[n++] = '\n';
	say(sp, line, (size_t)n);
}

/*
 * ctxrun never blocks on its own standard error: a reader that stopped
 * reading (a pipe, a FIFO, a terminal on hold) would stop the deadline and
 * every signal with it.  Those are written through a non-blocking
 * description of ctxrun's own (the shared one stays as it is).  What does
 * not fit waits in memory, in order, and goes out with the next line or at
 * exit (speak_flush); only past PENDING_MAX is a line dropped.
 */
#define PENDING_MAX 65536

static char pending[PENDING_MAX];
static size_t npending;

static int
speaker_fd(struct speaker *sp)
{
	struct stat st;
	char path[32];

	if (sp->fd > 0)
		return sp->fd;
	sp->fd = STDERR_FILENO;
	if (fstat(STDERR_FILENO, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode))) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", STDERR_FILENO);
		int fd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		if (fd >= 0)
			sp->fd = fd;
	}
	return sp->fd;
}

/* Writes what it can without waiting; returns how much went out. */
static size_t
put(struct speaker *sp, const char *buf, size_t n)
{
	size_t done = 0;

	while (done < n) {
		ssize_t w = write(speaker_fd(sp), buf + done, n - done);
		if (w > 0)
			done += (size_t)w;
		else if (w < 0 && errno == EINTR)
			continue;
		else {
			if (w < 0 && errno != EAGAIN)
				sp->stderr_broken = true;
			break;
		}
	}
	return done;
}

static void
flush_pending(struct speaker *sp)
{
	size_t done = npending ? put(sp, pending, npending) : 0;

	memmove(pending, pending + done, npending - done);
	npending -= done;
}

static void
say(struct speaker *sp, const char *line, size_t n)
{
	flush_pending(sp);
	size_t done = npending == 0 && !sp->stderr_broken ? put(sp, line, n) : 0;
	if (done < n && !sp->stderr_broken && npending + (n - done) <= PENDING_MAX) {
		memcpy(pending + npending, line + done, n - done);
		npending += n - done;
	}
}

void
speak_flush(struct speaker *sp, int patience_ms)
{
	for (int waited = 0; npending > 0 && !sp->stderr_broken; waited += 20) {
		flush_pending(sp);
		if (npending == 0 || waited >= patience_ms)
			break;
		struct pollfd pfd = { .fd = speaker_fd(sp), .events = POLLOUT };
		(void)poll(&pfd, 1, 20);
	}
}

void
speak_line(struct speaker *sp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vspeak(sp, true, fmt, ap);
	va_end(ap);
}

/* ctxrun's own failures, before any context ran: not named after it. */
static void speak_failure(struct speaker *sp, const char *fmt, ...) __printflike(2, 3);

static void
speak_failure(struct speaker *sp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vspeak(sp, false, fmt, ap);
	va_end(ap);
}

static const char *
cause_words(enum done_cause cause)
{
	switch (cause) {
	case DONE_DEADLINE:
		return "deadline exceeded";
	case DONE_CANCEL:
	case DONE_PARENT_CANCEL:
	case DONE_PARENT_GONE:
		return "cancelled";
	case DONE_SIGNAL:
		return "signal received";
	case DONE_COMMAND_EXITED:
		return "command exited, cleaning up its tree";
	case DONE_IDLE:
		return "idle";
	default:
		return "";
	}
}

static const char *
plural(size_t n)
{
	return n == 1 ? "" : "es";
}

/* How an attempt ended, for "attempt 2/4 failed (...)". */
static void
attempt_end(const struct speaker *sp, const struct outcome *o, char *buf,
    size_t len)
{
	char what[40];

	if (o->cause == DONE_DEADLINE && o->attempt_timed_out) {
		format_duration(sp->retry->attempt_timeout, what, sizeof(what));
		snprintf(buf, len, "timed out after %s", what);
	} else if (o->cause == DONE_IDLE) {
		format_duration(sp->idle_timeout, what, sizeof(what));
		snprintf(buf, len, "idle for %s", what);
	} else if (o->command_code == CLD_EXITED)
		snprintf(buf, len, "exit %d", o->command_status);
	else
		snprintf(buf, len, "signal %s", signal_name(o->command_status,
		    what, sizeof(what)));
}

void
speak_event(const struct event *ev, void *arg)
{
	struct speaker *sp = arg;
	char name[16], grace[40];

	if (ev->kind == EV_ATTEMPT_STARTED)
		return;	/* nothing to say: the command speaks for itself */
	if (ev->kind == EV_TREE_UNREADABLE) {
		speak_line(sp, "cannot read the process tree: %s", strerror(ev->err));
		return;
	}
	if (ev->kind == EV_RETRYING || ev->kind == EV_GIVING_UP ||
	    ev->kind == EV_NOT_RETRIED) {
		char how[80], wait[40];
		if (sp->quiet)
			return;
		attempt_end(sp, ev->failed, how, sizeof(how));
		/* To the tenth of a second (the millisecond below one): what a
		 * reader takes in. */
		int64_t unit = ev->wait < NS_PER_SEC ? NS_PER_MS : NS_PER_SEC / 10;
		int64_t w = ev->wait + unit / 2;
		format_duration(w - w % unit, wait, sizeof(wait));
		if (ev->kind == EV_NOT_RETRIED)
			speak_line(sp, "attempt %u/%u failed (%s); not retried: %s",
			    ev->attempt, ev->attempts, how, ev->failed->asked.cause[0] ?
			    ev->failed->asked.cause : "ctxrun retry --never");
		else if (ev->kind == EV_RETRYING)
			speak_line(sp, "attempt %u/%u failed (%s); retrying in %s",
			    ev->attempt, ev->attempts, how, wait);
		else {
			speak_line(sp, "attempt %u/%u failed (%s); no time left for "
			    "attempt %u", ev->attempt, ev->attempts, how, ev->attempt + 1);
			sp->said_last = true;	/* the line that ends the run */
		}
		return;
	}
	if (ev->kind == EV_OUTPUT_FAILED) {
		/* Always said: the tree can only be told EPIPE. */
		speak_line(sp, "cannot pass on the command's output: %s; its next "
		    "write there fails with EPIPE", strerror(ev->err));
		return;
	}
	if (ev->kind == EV_HOOK_ENDED) {
		const struct outcome *o = ev->failed;
		char d[40];
		if (sp->quiet)
			return;
		format_duration(ev->wait, d, sizeof(d));
		if (o->hook.killed)
			speak_line(sp, "the --on-timeout hook was killed at its limit of %s", d);
		else if (o->hook.cut_by != 0)
			speak_line(sp, "the --on-timeout hook was cut short: ctxrun received %s",
			    signal_name(o->hook.cut_by, name, sizeof(name)));
		else if (o->hook.code != CLD_EXITED)
			speak_line(sp, "the --on-timeout hook died of signal %s",
			    signal_name(o->hook.status, name, sizeof(name)));
		else if (o->hook.status != 0)
			speak_line(sp, "the --on-timeout hook exited with %d", o->hook.status);
		return;
	}
	if (!sp->verbose)
		return;
	if (ev->kind == EV_WARNED || ev->kind == EV_HOOK_STARTED) {
		char d[40];
		format_duration(ev->wait, d, sizeof(d));
		signal_name(ev->sig, name, sizeof(name));
		if (ev->kind == EV_HOOK_STARTED)
			speak_line(sp, "running the --on-timeout hook (pid %d, %s at most)",
			    (int)ev->pid, d);
		else if (ev->count == 1)
			speak_line(sp, "sent %s to the command, %s before the deadline",
			    name, d);
		else if (ev->err == ESRCH)
			speak_line(sp, "did not send %s: the command had exited", name);
		else
			speak_line(sp, "did not send %s: less than %s was left when the "
			    "command started", name, d);
		return;
	}
	if (sp->gnu) {
		char q[512];
		/* GNU timeout names each signal it sends (as sig2str: EXIT for
		 * 0), KILL once, and quotes the command as its quote() does. */
		if (ev->kind == EV_KILLED && sp->kill_said++ > 0)
			return;
		if (gnu_signal_name(ev->sig, name, sizeof(name)) == NULL)
			snprintf(name, sizeof(name), "%d", ev->sig);
		gnu_quote(sp->command, q, sizeof(q));
		speak_line(sp, "sending signal %s to command %s", name, q);
		return;
	}
	signal_name(ev->sig, name, sizeof(name));
	switch (ev->kind) {
	case EV_SIGNALLED:
		speak_line(sp, "sent %s to %zu process%s (%s)%s", name, ev->count,
		    plural(ev->count), ev->attempt_timed_out ? "attempt timed out" :
		    cause_words(ev->cause),
		    ev->nested_told ? "; told the nested ctxruns" : "");
		break;
	case EV_FORWARDED:
		if (ev->from_terminal)
			speak_line(sp, "passed %s from the terminal to %zu process%s "
			    "outside its group%s", name, ev->count, plural(ev->count),
			    ev->nested_told ? "; told the nested ctxruns" : "");
		else if (ev->count == 1)
			speak_line(sp, "forwarded %s to the command", name);
		else
			speak_line(sp, "forwarded %s to %zu processes", name, ev->count);
		break;
	case EV_KILLED:
		format_duration(ev->grace, grace, sizeof(grace));
		speak_line(sp, "sent KILL to %zu process%s (grace period of %s over)",
		    ev->count, plural(ev->count), grace);
		break;
	default:
		break;
	}
}

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
failed(const struct speaker *sp, const struct outcome *o, char **argv,
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

static bool
ended_by_context(enum done_cause c)
{
	return c == DONE_DEADLINE || c == DONE_CANCEL || c == DONE_PARENT_CANCEL ||
	    c == DONE_PARENT_GONE || c == DONE_IDLE;
}

/* GNU timeout's exit status: 124 once timed out (unless
 * --preserve-status), 128+N for a signal, 137 when KILL was needed, and
 * its own death by COMMAND's signal when it did not time out. */
static void
conclude_gnu(const struct outcome *o, bool preserve, struct ending *end)
{
	bool timed_out = ended_by_context(o->cause);
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
		/* The budget this ctxrun had, to the millisecond. */
		int64_t budget = ctx_deadline(c) - sp->start + NS_PER_MS / 2;
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
	bool ctx_ended = ended_by_context(o->cause) &&
	    (o->command_alive_at_done || wait_tree);
	bool exited = o->command_code == CLD_EXITED;

	if (ctx_ended) {
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
		end->status = failed(sp, o, argv, end->cause, sizeof(end->cause));
		speak_failure(sp, "%s", end->cause);
	} else if (sp->gnu)
		conclude_gnu(o, preserve, end);
	else {
		decide(sp, o, preserve, wait_tree, end);
		/* "no time left for attempt N" said it already. */
		if (end->cause[0] != '\0' && !sp->quiet && !sp->said_last)
			speak_line(sp, "%s", end->cause);
	}
}
