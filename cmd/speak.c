/*
 * What ctxrun says: the supervisor's events turned into lines on stderr,
 * in ctxrun's words or GNU timeout's (the last line is conclude.c's).
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
		if (fd >= 0) {
			sp->fd = fd;
			sp->fd_nonblocking = true;
		}
	}
	return sp->fd;
}

/* Writes what it can without waiting; returns how much went out. */
static size_t
put(struct speaker *sp, const char *buf, size_t n)
{
	size_t done = 0;

	int fd = speaker_fd(sp);
	while (done < n) {
		ssize_t w = write_without_waiting(fd, buf + done, n - done,
		    sp->fd_nonblocking);
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

void
speak_failure(struct speaker *sp, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vspeak(sp, false, fmt, ap);
	va_end(ap);
}

static const char *
plural(size_t n)
{
	return n == 1 ? "" : "es";
}

/* ---- one function per event --------------------------------------------- */

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

/* EV_RETRYING, EV_GIVING_UP, EV_NOT_RETRIED, EV_NO_ATTEMPTS_LEFT: an
 * attempt failed, and what follows. */
static void
attempt_failed_line(const struct speaker *sp, const struct event *ev, char *buf,
    size_t len)
{
	char how[80], wait[40];
	int n = snprintf(buf, len, "attempt %u/%u failed (", ev->attempt, ev->attempts);

	attempt_end(sp, ev->failed, how, sizeof(how));
	/* To the tenth of a second (the millisecond below one): what a
	 * reader takes in. */
	int64_t unit = ev->wait < NS_PER_SEC ? NS_PER_MS : NS_PER_SEC / 10;
	int64_t w = ev->wait + unit / 2;
	format_duration(w - w % unit, wait, sizeof(wait));
	if (n < 0 || (size_t)n >= len)
		return;
	buf += n;
	len -= (size_t)n;
	if (ev->kind == EV_NOT_RETRIED)
		snprintf(buf, len, "%s); not retried: %s", how, ev->failed->asked.cause[0] ?
		    ev->failed->asked.cause : "ctxrun retry --never");
	else if (ev->kind == EV_RETRYING)
		snprintf(buf, len, "%s); retrying in %s", how, wait);
	else if (ev->kind == EV_NO_ATTEMPTS_LEFT)
		snprintf(buf, len, "%s); no attempts left", how);
	else
		snprintf(buf, len, "%s); no time left for attempt %u", how, ev->attempt + 1);
}

static void
say_attempt_failed(struct speaker *sp, const struct event *ev)
{
	char line[512];

	attempt_failed_line(sp, ev, line, sizeof(line));
	speak_line(sp, "%s", line);
}

static void
say_tree_unreadable(struct speaker *sp, const struct event *ev)
{
	speak_line(sp, "cannot read the process tree: %s", strerror(ev->err));
}

static void
say_output_failed(struct speaker *sp, const struct event *ev)
{
	speak_line(sp, "cannot pass on the command's output: %s; its next "
	    "write there fails with EPIPE", strerror(ev->err));
}

/* Only a hook that failed is worth a line. */
static void
say_hook_ended(struct speaker *sp, const struct event *ev)
{
	const struct hook_result *h = &ev->failed->hook;
	char name[16], d[40];

	format_duration(ev->wait, d, sizeof(d));
	if (h->killed)
		speak_line(sp, "the --on-timeout hook was killed at its limit of %s", d);
	else if (h->cut_by != 0)
		speak_line(sp, "the --on-timeout hook was cut short: ctxrun received %s",
		    signal_name(h->cut_by, name, sizeof(name)));
	else if (h->code != CLD_EXITED)
		speak_line(sp, "the --on-timeout hook died of signal %s",
		    signal_name(h->status, name, sizeof(name)));
	else if (h->status != 0)
		speak_line(sp, "the --on-timeout hook exited with %d", h->status);
}

static void
say_hook_failed(struct speaker *sp, const struct event *ev)
{
	speak_line(sp, "the --on-timeout hook could not start: /bin/sh: %s",
	    strerror(ev->err));
}

static void
say_hook_started(struct speaker *sp, const struct event *ev)
{
	char d[40];

	format_duration(ev->wait, d, sizeof(d));
	speak_line(sp, "running the --on-timeout hook (pid %d, %s at most)",
	    (int)ev->pid, d);
}

static void
say_warned(struct speaker *sp, const struct event *ev)
{
	char name[16], d[40];

	format_duration(ev->wait, d, sizeof(d));
	signal_name(ev->sig, name, sizeof(name));
	if (ev->count == 1)
		speak_line(sp, "sent %s to the command, %s before the deadline",
		    name, d);
	else if (ev->err == ESRCH)
		speak_line(sp, "did not send %s: the command had exited", name);
	else
		speak_line(sp, "did not send %s: less than %s was left when the "
		    "command started", name, d);
}

static void
say_signalled(struct speaker *sp, const struct event *ev)
{
	const char *why = cause_names(ev->cause)->words;
	char name[16];

	signal_name(ev->sig, name, sizeof(name));
	speak_line(sp, "sent %s to %zu process%s (%s)%s", name, ev->count,
	    plural(ev->count), ev->attempt_timed_out ? "attempt timed out" :
	    why != NULL ? why : "",
	    ev->nested_told ? "; told the nested ctxruns" : "");
}

static void
say_forwarded(struct speaker *sp, const struct event *ev)
{
	char name[16];

	signal_name(ev->sig, name, sizeof(name));
	if (ev->from_terminal)
		speak_line(sp, "passed %s from the terminal to %zu process%s "
		    "outside its group%s", name, ev->count, plural(ev->count),
		    ev->nested_told ? "; told the nested ctxruns" : "");
	else if (ev->count == 1)
		speak_line(sp, "forwarded %s to the command", name);
	else
		speak_line(sp, "forwarded %s to %zu processes", name, ev->count);
}

static void
say_killed(struct speaker *sp, const struct event *ev)
{
	char grace[40];

	format_duration(ev->grace, grace, sizeof(grace));
	speak_line(sp, "sent KILL to %zu process%s (grace period of %s over)",
	    ev->count, plural(ev->count), grace);
}

/* GNU timeout names each signal it sends (as sig2str: EXIT for 0), KILL
 * once, and quotes the command as its quote() does. */
static void
say_gnu_sending(struct speaker *sp, const struct event *ev)
{
	char name[16], q[512];

	if (ev->kind == EV_KILLED && sp->kill_said++ > 0)
		return;
	if (gnu_signal_name(ev->sig, name, sizeof(name)) == NULL)
		snprintf(name, sizeof(name), "%d", ev->sig);
	gnu_quote(sp->command, q, sizeof(q));
	speak_line(sp, "sending signal %s to command %s", name, q);
}

/*
 * Which events are said, when, and how.  A failure that changes what the
 * tree sees (its /proc unreadable, its output lost) is always said; how
 * attempts and the hook ended is quiet's to hush; the signals that go out
 * are --verbose's.  A new event kind says nothing until it has a row.
 */
struct event_line {
	enum { NEVER, ALWAYS, UNLESS_QUIET, IF_VERBOSE } when;
	void (*say)(struct speaker *, const struct event *);
	void (*gnu)(struct speaker *, const struct event *);  /* NULL: say */
};

static const struct event_line event_lines[] = {
	/* The command speaks for itself. */
	[EV_ATTEMPT_STARTED] = { NEVER, NULL, NULL },
	[EV_TREE_UNREADABLE] = { ALWAYS, say_tree_unreadable, NULL },
	[EV_OUTPUT_FAILED] = { ALWAYS, say_output_failed, NULL },
	[EV_RETRYING] = { UNLESS_QUIET, say_attempt_failed, NULL },
	[EV_GIVING_UP] = { UNLESS_QUIET, say_attempt_failed, NULL },
	[EV_NOT_RETRIED] = { UNLESS_QUIET, say_attempt_failed, NULL },
	[EV_NO_ATTEMPTS_LEFT] = { UNLESS_QUIET, say_attempt_failed, NULL },
	[EV_HOOK_ENDED] = { UNLESS_QUIET, say_hook_ended, NULL },
	[EV_HOOK_FAILED] = { ALWAYS, say_hook_failed, NULL },
	[EV_HOOK_STARTED] = { IF_VERBOSE, say_hook_started, NULL },
	[EV_WARNED] = { IF_VERBOSE, say_warned, NULL },
	[EV_SIGNALLED] = { IF_VERBOSE, say_signalled, say_gnu_sending },
	[EV_FORWARDED] = { IF_VERBOSE, say_forwarded, say_gnu_sending },
	[EV_KILLED] = { IF_VERBOSE, say_killed, say_gnu_sending },
};

void
speak_event(const struct event *ev, void *arg)
{
	struct speaker *sp = arg;

	/* A kind added to lib/ after the last row: nothing to say of it. */
	if ((size_t)ev->kind >= sizeof(event_lines) / sizeof(event_lines[0]))
		return;
	/* The end of the retries is the run's last line, and the report's
	 * cause, whether said or not. */
	if (ev->kind == EV_GIVING_UP || ev->kind == EV_NOT_RETRIED ||
	    ev->kind == EV_NO_ATTEMPTS_LEFT)
		attempt_failed_line(sp, ev, sp->stopped, sizeof(sp->stopped));
	const struct event_line *l = &event_lines[ev->kind];
	if (l->when == NEVER || (l->when == UNLESS_QUIET && sp->quiet) ||
	    (l->when == IF_VERBOSE && !sp->verbose))
		return;
	if (sp->gnu && l->gnu != NULL)
		l->gnu(sp, ev);
	else
		l->say(sp, ev);
}
