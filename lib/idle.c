/*
 * --idle-timeout, the supervisor's side of the output relay (relay.c moves
 * the bytes): failures of a destination said once, a stop that is not
 * silence, the last output delivered after the tree is reaped, and the
 * terminal's modes put back.
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

/* A destination that failed otherwise than by its reader going away (a
 * full disk, a file size limit): said once, as the tree cannot be told
 * more than EPIPE. */
static void
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
	if (s->phase == PHASE_RUNNING && (now > s->wake || now > s->idle.at))
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

static size_t
idle_nfds(const struct sup *s)
{
	return s->idle.relaying ? 2 * s->idle.relay.n : 0;
}

static size_t
idle_fds(struct sup *s, struct pollfd *fds, size_t max)
{
	if (!s->idle.relaying || max < 2 * s->idle.relay.n)
		return 0;
	return relay_pollfds(&s->idle.relay, fds, s->idle.polled);
}

/* What the tree wrote is passed on, before ctxrun acts on a signal or an
 * exit that came after it.  Output alone changes nothing else. */
static bool
idle_ready(struct sup *s, const struct pollfd *fds, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		if (fds[k].revents == 0)
			continue;
		relay_ready(&s->idle.relay, s->idle.polled[k], &fds[k]);
		if (relay_pump(&s->idle.relay, s->idle.polled[k]) > 0)
			s->idle.last_output = mono_now();
	}
	output_failures(s);
	return false;
}

/* RUNNING: the clock runs out when the tree has written nothing for
 * --idle-timeout; blocked on a reader downstream is not silence. */
static int64_t
idle_next_wake(struct sup *s, int64_t now)
{
	if (!s->idle.relaying || s->phase != PHASE_RUNNING)
		return CTX_NEVER;
	if (relay_stalled(&s->idle.relay))
		s->idle.last_output = now;
	s->idle.at = time_add(s->idle.last_output, s->r->idle_timeout);
	if (s->idle.at > now)
		return s->idle.at;
	core_event(s, CE_DEADLINE, DONE_IDLE, 0);
	return CTX_NEVER;
}

static void
idle_close(struct sup *s)
{
	relay_close(&s->idle.relay);
}

const struct module idle_module = {
	.name = "idle",
	.nfds = idle_nfds,
	.fds = idle_fds,
	.ready = idle_ready,
	.next_wake = idle_next_wake,
	.close = idle_close,
};
