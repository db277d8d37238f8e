/*
 * What a signal received by ctxrun does: end the context, act as the
 * deadline, pass a terminal's signal on to the rest of the tree, or be
 * forwarded, as the front end's policy says.
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

static void
handle_signal(struct sup *s, const struct received *rv)
{
	struct event ev = { .kind = EV_FORWARDED, .sig = rv->sig };
	const struct policy *p = s->p;
	int sig = rv->sig;

	/* Taken only to be seen: continuing is the kernel's business. */
	if (sig == SIGCONT) {
		continued(s);
		return;
	}

	/* Typed at the terminal: the kernel told its foreground group, ctxrun
	 * included; the rest of the tree is told here.  Not a cancellation by
	 * itself: COMMAND decides what Ctrl-C means. */
	if ((sig == SIGINT || sig == SIGQUIT) && rv->code == SI_KERNEL && s->term.tty >= 0) {
		pid_t fg = tcgetpgrp(s->term.tty);
		/* But the user wants it over: no attempt after this one, and
		 * between attempts, nothing runs to decide: the run ends. */
		if (s->phase == PHASE_WAITING) {
			core_event(s, CE_SIGNAL, DONE_SIGNAL, sig);
			return;
		}
		s->out->asked.never = true;
		strlcpy(s->out->asked.cause, "interrupted at the terminal",
		    sizeof(s->out->asked.cause));
		ev.from_terminal = true;
		if (fg > 0) {
			sweep_terminal(&s->sweep, sig, fg, &ev);
			if (ev.count > 0 || ev.nested_told > 0)
				emit(s, &ev);
		}
		return;
	}
	if (sigismember(&p->ending, sig)) {
		/* Once the attempt has ended, the signal is final all the
		 * same; and the tree was told once already, unless the policy
		 * passes every signal on (GNU timeout). */
		bool taken = core_action(s->phase, CE_SIGNAL) != CA_FINAL;
		core_event(s, CE_SIGNAL, DONE_SIGNAL, sig);
		if (taken || p->tell_once)
			return;
	} else if (sigismember(&p->as_deadline, sig)) {
		core_event(s, CE_DEADLINE, DONE_DEADLINE, 0);
		return;
	}
	/* A resized terminal: the pseudo-terminal of the relay first, so
	 * that COMMAND finds the new size when it is told (again: the
	 * terminal told it first, while its stdout still had the old size).
	 * Without the relay, a COMMAND in our group needs no second one. */
	if (sig == SIGWINCH && s->idle.relaying)
		(void)relay_resize(&s->idle.relay);
	else if (sig == SIGWINCH && rv->code == SI_KERNEL && s->term.shares_group)
		return;
	if (p->forward_to_tree) {
		sweep_forward(&s->sweep, sig, &ev);
		emit(s, &ev);
	} else if (s->command.running && kill(s->command.pid, sig) == 0) {
		/* Our unreaped child: its PID cannot have been reused. */
		ev.count = 1;
		emit(s, &ev);
	}
}

static size_t
signals_nfds(const struct sup *s)
{
	(void)s;
	return 1;
}

static size_t
signals_fds(struct sup *s, struct pollfd *fds, size_t max)
{
	if (max == 0)
		return 0;
	fds[0] = (struct pollfd){ .fd = s->sig.fd, .events = POLLIN };
	return 1;
}

/* Every signal queued; SIGCHLD only wakes the loop, which reaps. */
static bool
signals_ready(struct sup *s, const struct pollfd *fds, size_t n)
{
	struct received rv[64];
	size_t got;

	(void)n;
	if (fds[0].revents == 0)
		return false;
	do {
		got = signals_drain(&s->sig, rv, 64);
		for (size_t i = 0; i < got; i++)
			if (rv[i].sig != SIGCHLD)
				handle_signal(s, &rv[i]);
	} while (got == 64);
	return true;
}

static void
signals_close(struct sup *s)
{
	if (s->sig.fd >= 0)
		close(s->sig.fd);
	s->sig.fd = -1;
}

const struct module signals_module = {
	.name = "signals",
	.nfds = signals_nfds,
	.fds = signals_fds,
	.ready = signals_ready,
	.close = signals_close,
};
