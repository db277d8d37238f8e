/*
 * Attempts: with retries each attempt is a run of its own, its whole tree
 * reaped before the next one starts; between two of them the supervisor
 * waits (PHASE_WAITING).  --replay-stdin reads stdin once, before the first.
 */
#include <sys/mman.h>
#include <sys/random.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "module.h"
#include "sup.h"

int64_t
retry_wait(const struct retry_policy *rp, unsigned n)
{
	int64_t wait = rp->delay;

	/* delay * 2^(n-1), capped; with jitter, the upper half at random. */
	for (unsigned i = 1; i < n && wait < rp->max_delay; i++)
		wait = wait > rp->max_delay / 2 ? rp->max_delay : wait * 2;
	if (wait > rp->max_delay)
		wait = rp->max_delay;
	if (rp->jitter && wait > 1) {
		uint64_t r = 0;
		if (getrandom(&r, sizeof(r), 0) != sizeof(r))
			r = (uint64_t)mono_now();
		wait = wait / 2 + (int64_t)(r % (uint64_t)(wait / 2 + 1));
	}
	return wait;
}

/* Whether the attempt that just ended is worth another. */
static bool
worth_retrying(const struct retry_policy *rp, const struct outcome *o)
{
	switch (o->cause) {
	case DONE_DEADLINE:
		return o->attempt_timed_out && rp->on_timeout;
	case DONE_IDLE:
		return rp->on_timeout;
	case DONE_NOT_YET:
	case DONE_COMMAND_EXITED:
		break;
	default:
		return false;	/* a signal received, a cancel: final */
	}
	if (o->command_code == CLD_EXITED) {
		int st = o->command_status & 0xff;
		return (rp->on_exit[st / 8] >> (st % 8)) & 1;
	}
	/* Died of a --warn signal: ended by the deadline coming. */
	if (outcome_warned(o, o->command_status))
		return rp->on_timeout;
	return rp->on_signal;	/* died of a signal ctxrun did not send */
}

/* This attempt's context: the earlier of its own timeout and the run's
 * deadline, exported for COMMAND. */
static int
prepare_attempt(struct sup *s, unsigned n, int64_t own_deadline)
{
	const struct retry_policy *rp = s->r->retry;
	struct ctx *c = s->r->ctx;

	c->deadline = own_deadline;
	if (rp->attempt_timeout != CTX_NEVER) {
		int64_t t = deadline_after(mono_now(), rp->attempt_timeout);
		if (t < c->deadline)
			c->deadline = t;
	}
	/* One attempt (-r 0, or --attempt-timeout alone) is no retry. */
	c->attempt = rp->retries > 0 ? n : 0;
	c->attempts = rp->retries > 0 ? rp->retries + 1 : 0;
	s->out->attempt = c->attempt;
	s->out->attempts = c->attempts;
	if (c->attempts != 0 && export_attempt(s, n) == -1)
		return -1;
	return export_context(s);
}

/* Waits until `until`, or until a cause ends the run: true then. */
static bool
wait_for_attempt(struct sup *s, int64_t until)
{
	s->phase = PHASE_WAITING;
	s->wake = until;
	s->att.final = false;
	loop(s);
	return s->att.final;
}

/* The bytes read are sealed and handed out read-only: no attempt can change
 * what the next one reads. */
static int
seal_stdin(struct sup *s)
{
	char path[64];
	int ro;

	if (fcntl(s->att.replay_fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_GROW |
	    F_SEAL_SHRINK | F_SEAL_SEAL) == -1)
		goto fail;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", s->att.replay_fd);
	if ((ro = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		goto fail;
	close(s->att.replay_fd);
	s->att.replay_fd = ro;
	return 0;
fail:
	s->out->failure = RUN_SETUP;
	s->out->err = errno;
	return 1;
}

/*
 * --replay-stdin: stdin is read to its end once, into memory, before the
 * first attempt, and every attempt reads the same bytes from the start.  A
 * signal that ends the context, or the deadline, stops the reading: 1 then,
 * and out says why.
 */
static int
read_stdin(struct sup *s)
{
	char buf[65536];

	s->att.replay_fd = memfd_create("ctxrun-stdin", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (s->att.replay_fd < 0)
		goto fail;
	for (;;) {
		int ready = wait_before_start(s, STDIN_FILENO);
		if (ready == -1)
			goto fail;
		if (ready == 0)
			break;
		ssize_t got = read(STDIN_FILENO, buf, sizeof(buf));
		if (got < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (got < 0)
			goto fail;
		if (got == 0)
			return seal_stdin(s);
		for (ssize_t off = 0; off < got;) {
			ssize_t w = write(s->att.replay_fd, buf + off, (size_t)(got - off));
			if (w < 0)
				goto fail;
			off += w;
		}
	}
	s->out->command_alive_at_done = true;	/* it would have been */
	return 1;
fail:
	s->out->failure = RUN_SETUP;
	s->out->err = errno;
	return 1;
}

/* The wait between attempts was cut short by a signal: the line that said
 * a retry was coming is not the last, this one is (and the report's
 * cause). */
static void
wait_cut(struct sup *s, struct event *ev, struct outcome *failed)
{
	char name[16];

	if (s->out->cause != DONE_SIGNAL)
		return;
	snprintf(failed->asked.cause, sizeof(failed->asked.cause), "ctxrun received %s",
	    signal_name(s->out->signal, name, sizeof(name)));
	ev->kind = EV_NOT_RETRIED;
	emit(s, ev);
}

/* Attempt n ended: whether attempt n + 1 starts, after the wait.  If not,
 * the line that says why has been said. */
static bool
next_attempt(struct sup *s, const struct retry_policy *rp, unsigned n)
{
	/* One attempt (-r 0, or --attempt-timeout alone) is no retry. */
	if (rp == NULL || rp->retries == 0 || !worth_retrying(rp, s->out))
		return false;
	struct outcome failed = *s->out;
	struct event ev = { .kind = EV_RETRYING, .attempt = n,
	    .attempts = rp->retries + 1, .failed = &failed };
	/* "Come back in 30 s", from the command: still bounded by the
	 * deadline and the number of attempts. */
	ev.wait = failed.asked.after >= 0 ? failed.asked.after : retry_wait(rp, n);
	if (n > rp->retries)
		ev.kind = EV_NO_ATTEMPTS_LEFT;
	else if (failed.asked.never)
		ev.kind = EV_NOT_RETRIED;
	/* Never sleep past the deadline, never start an attempt with no time
	 * left. */
	else if (time_add(mono_now(), ev.wait) >= s->att.run_deadline)
		ev.kind = EV_GIVING_UP;
	emit(s, &ev);
	if (ev.kind != EV_RETRYING)
		return false;
	/* The next attempt starts afresh. */
	memset(s->out, 0, sizeof(*s->out));
	s->out->asked.after = -1;
	s->out->attempt = failed.attempt;
	s->out->attempts = failed.attempts;
	s->recheck_delay = 0;
	if (wait_for_attempt(s, time_add(mono_now(), ev.wait))) {
		wait_cut(s, &ev, &failed);
		return false;
	}
	if (mono_now() >= s->att.run_deadline) {
		/* Late (ctxrun was stopped, the machine is loaded): the next
		 * attempt has no time left; not started. */
		s->out->cause = DONE_DEADLINE;
		s->out->command_alive_at_done = true;
		return false;
	}
	s->phase = PHASE_RUNNING;
	return true;
}

void
attempts(struct sup *s)
{
	const struct retry_policy *rp = s->r->retry;
	int64_t own_deadline = s->r->ctx->deadline;

	s->att.run_deadline = ctx_deadline(s->r->ctx);
	s->out->asked.after = -1;
	if (rp != NULL && rp->replay_stdin && read_stdin(s) == 1)
		return;
	for (unsigned n = 1;; n++) {
		if (rp != NULL && prepare_attempt(s, n, own_deadline) == -1) {
			s->out->failure = RUN_SETUP;
			s->out->err = errno;
			return;
		}
		if (start_command(s) == -1)
			return;
		/* When each attempt began, for a report of the run. */
		struct event started = { .kind = EV_ATTEMPT_STARTED, .attempt = n,
		    .attempts = rp != NULL ? rp->retries + 1 : 1 };
		emit(s, &started);
		loop(s);
		if (s->idle.relaying)
			drain_relay(s);
		if (!next_attempt(s, rp, n))
			return;
	}
}

static void
attempts_close(struct sup *s)
{
	if (s->att.replay_fd >= 0)
		close(s->att.replay_fd);
	s->att.replay_fd = -1;
	drop_owned(&s->att.env_ctx);
	drop_owned(&s->att.env_attempt);
}

const struct module attempts_module = {
	.name = "attempts",
	.close = attempts_close,
};
