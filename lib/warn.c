/*
 * --warn=SIG@DURATION: a signal to COMMAND alone, once, DURATION before the
 * effective deadline.
 */
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

/* --warn, while COMMAND runs: sends the warnings that are due, each once,
 * to COMMAND only (a tree of programs that do not expect it would die of
 * it); returns when the next one is due. */
static int64_t
warn_next_wake(struct sup *s, int64_t now)
{
	int64_t next = CTX_NEVER, deadline = ctx_deadline(s->r->ctx);

	if (s->phase != PHASE_RUNNING)
		return CTX_NEVER;

	for (size_t i = 0; i < s->r->nwarnings && deadline != CTX_NEVER; i++) {
		const struct warning *w = &s->r->warnings[i];
		int64_t at = time_add(deadline, -w->before);
		if (s->att.warned[i])
			continue;
		if (at > now) {
			next = at < next ? at : next;
			continue;
		}
		s->att.warned[i] = true;
		/* Late (ctxrun was stopped past the deadline too): the deadline's
		 * own signal comes now, a warning would only race it. */
		if (deadline <= now)
			continue;
		struct event ev = { .kind = EV_WARNED, .sig = w->sig, .wait = w->before };
		/* Our unreaped child: its PID cannot have been reused. */
		if (s->command.running && kill(s->command.pid, w->sig) == 0) {
			ev.count = 1;
			if (w->sig < 64)
				s->out->warned_sigs |= UINT64_C(1) << w->sig;
		} else
			ev.err = ESRCH;	/* COMMAND had exited, its tree runs on */
		emit(s, &ev);
	}
	return next;
}

/* At COMMAND's start, a warning already due has come too late to be of
 * use, and would reach a program that has not set up for it yet: it is
 * not sent, and -v says so. */
void
warnings_for_attempt(struct sup *s)
{
	int64_t deadline = ctx_deadline(s->r->ctx), now = mono_now();

	for (size_t i = 0; i < s->r->nwarnings; i++) {
		const struct warning *w = &s->r->warnings[i];
		s->att.warned[i] = deadline != CTX_NEVER &&
		    time_add(deadline, -w->before) <= now;
		if (s->att.warned[i]) {
			struct event ev = { .kind = EV_WARNED, .sig = w->sig,
			    .wait = w->before };
			emit(s, &ev);
		}
	}
}

const struct module warn_module = {
	.name = "warn",
	.next_wake = warn_next_wake,
};
