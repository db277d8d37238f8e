/*
 * The supervisor's one wait: a ppoll() on the signalfd, the registry, the
 * enclosing ctxrun's connection and the relay, with the phase's one
 * wake-up time as the timeout.  Every wake-up drains all ready sources
 * before the phase acts (advance() in supervise.c).
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

#include "ctxrun.h"
#include "sup.h"

/* Which sources ppoll() found ready; the first polled peers are the
 * registry's peers[0..npolled), in order. */
struct ready {
	bool signals, listen, parent;
	const struct pollfd *peers;
	size_t npolled;
	const struct pollfd *relay;     /* relay[k] is channel relay_ch[k] */
	const size_t *relay_ch;
	size_t nrelay;
	bool relay_only;                /* nothing else woke ctxrun */
};

static void
read_peer(struct sup *s, size_t i)
{
	struct msg m;
	int rc;

	while ((rc = registry_recv(&s->nest.reg, i, &m)) == 1)
		handle_peer(s, &s->nest.reg.peers[i], &m);
	if (rc == -1)
		registry_drop(&s->nest.reg, i);
}

/* Drains every ready source, then acts: messages, signals, child exits. */
static void
wake_up(struct sup *s, const struct ready *rd)
{
	struct received rv[64];
	struct msg m;
	size_t n;

	/* Output first: what the tree wrote before a signal or its exit is
	 * passed on before ctxrun acts on them. */
	for (size_t k = 0; k < rd->nrelay; k++) {
		if (rd->relay[k].revents == 0)
			continue;
		relay_ready(&s->idle.relay, rd->relay_ch[k], &rd->relay[k]);
		if (relay_pump(&s->idle.relay, rd->relay_ch[k]) > 0)
			s->idle.last_output = mono_now();
	}
	if (rd->nrelay > 0)
		output_failures(s);
	/* Backwards: a dropped peer's place is taken by the last one, which
	 * was read already. */
	for (size_t i = rd->npolled; i-- > 0;)
		if (rd->peers[i].revents != 0)
			read_peer(s, i);
	if (rd->listen) {
		size_t first_new = s->nest.reg.npeers;
		/* On failure (out of memory) the peer waits in the backlog. */
		(void)registry_accept(&s->nest.reg);
		for (size_t i = s->nest.reg.npeers; i-- > first_new;)
			read_peer(s, i);
	}
	if (rd->parent && s->nest.parent_fd >= 0) {
		int rc;
		while ((rc = msg_recv(s->nest.parent_fd, &m)) == 1)
			handle_parent(s, &m);
		if (rc == -1 && s->nest.parent_detached) {
			close(s->nest.parent_fd);
			s->nest.parent_fd = -1;
		} else if (rc == -1)
			parent_gone(s);
	}
	if (rd->signals) {
		do {
			n = signals_drain(&s->sig, rv, 64);
			for (size_t i = 0; i < n; i++)
				if (rv[i].sig != SIGCHLD)
					handle_signal(s, &rv[i]);
		} while (n == 64);
	}
	/* A wake-up for output alone: no child changed. */
	if (rd->signals || !rd->relay_only)
		reap(s);
}

void
loop(struct sup *s)
{
	struct pollfd *fds = NULL;
	size_t cap = 0;

	advance(s, false);
	while (s->phase != PHASE_DONE) {
		size_t n = 2 + (s->nest.parent_fd >= 0) + 2 * s->idle.relay.n + s->nest.reg.npeers;
		if (n > cap) {
			struct pollfd *v = reallocarray(fds, n, sizeof(*v));
			if (v != NULL) {
				fds = v;
				cap = n;
			}
		}
		n = n < cap ? n : cap;
		size_t k = 0;
		fds[k++] = (struct pollfd){ .fd = s->sig.fd, .events = POLLIN };
		fds[k++] = (struct pollfd){ .fd = s->nest.reg.listen_fd, .events = POLLIN };
		bool polls_parent = s->nest.parent_fd >= 0 && k < n;
		if (polls_parent)
			fds[k++] = (struct pollfd){ .fd = s->nest.parent_fd, .events = POLLIN };
		size_t relay_ch[4], first_relay = k, nrelay = 0;
		if (s->idle.relaying && k + 2 * s->idle.relay.n <= n)
			nrelay = relay_pollfds(&s->idle.relay, fds + k, relay_ch);
		k += nrelay;
		size_t first_peer = k;
		for (size_t i = 0; i < s->nest.reg.npeers && k < n; i++)
			fds[k++] = (struct pollfd){ .fd = s->nest.reg.peers[i].fd, .events = POLLIN };

		struct timespec ts, *tsp = NULL;
		if (s->wake != CTX_NEVER) {
			int64_t left = s->wake - mono_now();
			if (left < 0)
				left = 0;
			ts.tv_sec = left / NS_PER_SEC;
			ts.tv_nsec = left % NS_PER_SEC;
			tsp = &ts;
		}
		int polled = ppoll(fds, k, tsp, NULL);
		if (polled == -1) {
			if (errno != EINTR) {
				/* Cannot wait: look again in a while rather than spin. */
				struct timespec pause = { 0, 50 * NS_PER_MS };
				nanosleep(&pause, NULL);
			}
			for (size_t i = 0; i < k; i++)
				fds[i].revents = POLLIN;	/* read everything */
		}
		bool relay_only = polled > 0;
		for (size_t i = 0; i < k; i++)
			if (fds[i].revents != 0 && (i < first_relay || i >= first_relay + nrelay))
				relay_only = false;
		struct ready rd = {
			.signals = fds[0].revents != 0,
			.listen = fds[1].revents != 0,
			.parent = polls_parent && fds[2].revents != 0,
			.peers = fds + first_peer,
			.npolled = k - first_peer,
			.relay = fds + first_relay,
			.relay_ch = relay_ch,
			.nrelay = nrelay,
			.relay_only = relay_only,
		};
		wake_up(s, &rd);
		advance(s, relay_only);
	}
	free(fds);
}
