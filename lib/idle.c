/*
 * --idle-timeout, the supervisor's side of the output relay (relay.c moves
 * the bytes): failures of a destination said once, a stop that is not
 * silence, the last output delivered after the tree is reaped, and the
 * terminal's modes put back.
 */
#include <termios.h>
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

#include "ctxrun.h"
#include "sup.h"

/* A destination that failed otherwise than by its reader going away (a
 * full disk, a file size limit): said once, as the tree cannot be told
 * more than EPIPE. */
void
output_failures(struct sup *s)
{
	for (size_t i = 0; i < s->idle.relay.n; i++) {
		struct relay_channel *ch = &s->idle.relay.ch[i];
		if (!ch->gone || ch->error_said || ch->error == 0 ||
		    ch->error == EPIPE || ch->error == ECONNRESET ||
		    (ch->pty && ch->error == EIO))
			continue;
		ch->error_said = true;
		struct event ev = { .kind = EV_OUTPUT_FAILED, .err = ch->error };
		emit(s, &ev);
	}
}

/* Continued after a stop (Ctrl-Z then fg, or the whole group stopped): the
 * time stopped was not the tree's silence, and the terminal may have been
 * resized meanwhile. */
void
continued(struct sup *s)
{
	if (!s->idle.relaying)
		return;
	/* Stopped past a wake-up it would have had: the silence meanwhile
	 * was not the tree's.  A SIGCONT sent to a ctxrun that was not
	 * stopped (by the tree, say) misses nothing, and resets nothing. */
	int64_t now = mono_now();
	if (s->phase == PHASE_RUNNING && now > s->wake)
		s->idle.last_output = now;
	(void)relay_resize(&s->idle.relay);
}

/*
 * The tree is reaped: nothing can write any more, but what it wrote is
 * still delivered before ctxrun goes on (or exits).  A destination that
 * takes nothing for a while (a reader that stopped reading) is given up
 * on, and so is the rest when a signal asks ctxrun to end.
 */
void
drain_relay(struct sup *s)
{
	int64_t patience = s->r->ctx->grace, give_up;
	struct received rv[64];

	if (patience < NS_PER_SEC)
		patience = NS_PER_SEC;
	if (patience > 60 * NS_PER_SEC)
		patience = 60 * NS_PER_SEC;
	give_up = time_add(mono_now(), patience);
	for (;;) {
		bool moved = false;
		for (size_t i = 0; i < s->idle.relay.n; i++)
			moved |= relay_pump(&s->idle.relay, i) > 0;
		if (!relay_stalled(&s->idle.relay))
			return;
		int64_t now = mono_now();
		if (moved)
			give_up = time_add(now, patience);
		if (now >= give_up)
			return;
		struct pollfd fds[5];
		size_t which[4], k = relay_pollfds(&s->idle.relay, fds, which);
		fds[k++] = (struct pollfd){ .fd = s->sig.fd, .events = POLLIN };
		int64_t left = give_up - now;
		struct timespec ts = { left / NS_PER_SEC, left % NS_PER_SEC };
		if (ppoll(fds, k, &ts, NULL) == -1 && errno != EINTR)
			return;
		for (size_t i = 0; i + 1 < k; i++)
			if (fds[i].revents != 0)
				relay_ready(&s->idle.relay, which[i], &fds[i]);
		output_failures(s);
		if (fds[k - 1].revents == 0)
			continue;
		size_t n = signals_drain(&s->sig, rv, 64);
		for (size_t i = 0; i < n; i++)
			if (sigismember(&s->p->ending, rv[i].sig))
				return;
	}
}

/* The terminal's modes as they were, if they changed and ctxrun is in the
 * foreground (in the background, setting them would stop it). */
void
restore_terminal(struct sup *s)
{
	int fd = relay_terminal(&s->idle.relay);
	struct termios now;

	if (tcgetattr(fd, &now) == 0 && memcmp(&now, &s->term.modes, sizeof(now)) != 0 &&
	    tcgetpgrp(fd) == getpgrp())
		(void)tcsetattr(fd, TCSADRAIN, &s->term.modes);
}
