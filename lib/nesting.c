/*
 * Nesting: how this ctxrun talks to the processes of its tree (nested
 * ctxruns registering, ctxrun cancel, ctxrun retry) through its registry,
 * and to the ctxrun that encloses it, through the connection it registered
 * with.
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

/* What a nested ctxrun is told when this context is done. */
struct msg
done_message(const struct sup *s)
{
	struct msg m = { .cause = (int32_t)s->out->cause };

	if (s->out->cause == DONE_SIGNAL)
		m.signal = s->out->signal;
	return m;
}

/* Whether pid is of the tree, for the registry to judge a peer by. */
bool
peer_is_member(void *arg, pid_t pid)
{
	const struct sup *s = arg;

	return s->sweep.tree->contains(s->self, pid);
}

static void
refuse(struct peer *p, const char *why)
{
	struct msg m = { 0 };

	strlcpy(m.text, why, sizeof(m.text));
	(void)msg_send(p->fd, MSG_REFUSED, &m);
}

/* Strangers were refused at connect: a peer here is a process of the tree
 * or of our user (or root). */
static void
handle_peer(struct sup *s, struct peer *p, const struct msg *m)
{
	switch (m->kind) {
	case MSG_REGISTER:
		/* Only a process of the tree has a subtree of it to keep. */
		if (!p->member) {
			refuse(p, "not a process of this tree");
			break;
		}
		p->nested = true;
		if (s->phase == PHASE_RUNNING) {
			(void)msg_send(p->fd, MSG_ACK, NULL);
			break;
		}
		/* Born into a done context: it does not start its command. */
		struct msg tell = done_message(s);
		p->told = msg_send(p->fd, MSG_DONE, &tell) == 0;
		break;
	case MSG_CANCEL:
		/* Answered first: the caller is in the tree and about to be
		 * signalled. */
		(void)msg_send(p->fd, MSG_ACK, NULL);
		enum core_action a = core_action(s->phase, CE_CANCEL);
		bool ends = a == CA_END || a == CA_END_WAIT;
		if (ends || s->out->cause == DONE_COMMAND_EXITED) {
			s->out->asked.cancel_status = m->status;
			strlcpy(s->out->asked.cancel_text, m->text, sizeof(s->out->asked.cancel_text));
		}
		core_event(s, CE_CANCEL, DONE_CANCEL, 0);
		if (a == CA_FINAL && s->out->cause == DONE_COMMAND_EXITED) {
			/* From a leftover while COMMAND's tree is cleaned up: the
			 * cancel still stands, final, with its status. */
			s->out->cause = DONE_CANCEL;
			s->out->command_alive_at_done = true;
		}
		break;
	case MSG_RETRY:
		if (s->r->retry == NULL || s->r->retry->retries == 0 ||
		    s->phase == PHASE_WAITING) {
			refuse(p, s->phase == PHASE_WAITING ? "no attempt is running" :
			    "it makes no retries");
			break;
		}
		(void)msg_send(p->fd, MSG_ACK, NULL);
		if (m->status == RETRY_NEVER) {
			s->out->asked.never = true;
			strlcpy(s->out->asked.cause, m->text, sizeof(s->out->asked.cause));
		} else if (m->after >= 0)
			s->out->asked.after = m->after;	/* 0: at once */
		break;
	default:
		refuse(p, "unexpected message");
	}
}

/* What the parent's MSG_DONE means here: its signal is passed down, its
 * deadline is ours too, anything else is a cancel from above. */
static enum done_cause
parent_cause(const struct msg *m, int *sig)
{
	*sig = 0;
	if (m->cause == DONE_SIGNAL && m->signal > 0 && m->signal < NSIG) {
		*sig = m->signal;
		return DONE_SIGNAL;
	}
	return m->cause == DONE_DEADLINE ? DONE_DEADLINE : DONE_PARENT_CANCEL;
}

static void
handle_parent(struct sup *s, const struct msg *m)
{
	int sig;

	switch (m->kind) {
	case MSG_DONE: {
		/* The enclosing context is done, whatever its cause. */
		enum done_cause cause = parent_cause(m, &sig);
		core_event(s, CE_CANCEL, cause, sig);
		break;
	}
	case MSG_TERMINAL_SIGNAL:
		if (m->signal > 0 && m->signal < NSIG) {
			struct event ev = { .kind = EV_FORWARDED, .from_terminal = true };
			sweep_terminal(&s->sweep, m->signal, m->fg_pgrp, &ev);
			emit(s, &ev);
		}
		break;
	case MSG_DETACH:
		s->nest.parent_detached = true;
		break;
	}
}

/*
 * The enclosing ctxrun went away without a word: it was killed.  Its
 * orphans, this ctxrun among them, fall to the next subreaper above, an
 * enclosing ctxrun: register there, so that it leaves this subtree to us
 * and tells us when it is done.  Then the tree is cancelled, as a killed
 * ctxrun's COMMAND is told.
 */
static void
parent_gone(struct sup *s)
{
	struct msg m;

	close(s->nest.parent_fd);
	s->nest.parent_fd = -1;
	for (const struct ctx *a = s->r->ctx->parent; a != NULL; a = a->parent) {
		if (a == s->r->ctx->parent || a->pid <= 0)
			continue;
		int fd = registry_connect(a->token);
		if (fd < 0)
			continue;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (msg_send(fd, MSG_REGISTER, NULL) == 0 && poll(&pfd, 1, 1000) == 1 &&
		    msg_recv(fd, &m) == 1 && (m.kind == MSG_ACK || m.kind == MSG_DONE)) {
			s->nest.parent_fd = fd;
			if (m.kind == MSG_DONE)
				handle_parent(s, &m);
			break;
		}
		close(fd);
	}
	core_event(s, CE_CANCEL, DONE_PARENT_GONE, 0);
}

/*
 * Before COMMAND runs (registering, reading stdin): waits until fd is
 * readable, the deadline passes or a signal ends the context.  1: fd is
 * ready; 0: out->cause says what ended the wait; -1: ppoll failed.
 */
int
wait_before_start(struct sup *s, int fd)
{
	struct received rv[64];

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = fd, .events = POLLIN },
			{ .fd = s->sig.fd, .events = POLLIN },
		};
		int64_t deadline = ctx_deadline(s->r->ctx), left = deadline - mono_now();
		struct timespec ts = { left / NS_PER_SEC, left % NS_PER_SEC };
		if (left <= 0) {
			s->out->cause = DONE_DEADLINE;
			return 0;
		}
		if (ppoll(fds, 2, deadline == CTX_NEVER ? NULL : &ts, NULL) == -1 &&
		    errno != EINTR)
			return -1;
		size_t n = fds[1].revents ? signals_drain(&s->sig, rv, 64) : 0;
		for (size_t i = 0; i < n; i++) {
			if (sigismember(&s->p->ending, rv[i].sig)) {
				s->out->cause = DONE_SIGNAL;
				s->out->signal = rv[i].sig;
			} else if (sigismember(&s->p->as_deadline, rv[i].sig))
				s->out->cause = DONE_DEADLINE;
		}
		if (s->out->cause != DONE_NOT_YET)
			return 0;
		if (fds[0].revents != 0)
			return 1;
	}
}

/*
 * A nested ctxrun registers with its parent before it starts anything, and
 * waits for the answer: the parent then knows it before its COMMAND exists,
 * and never signals that subtree itself.  A parent already done answers so,
 * and COMMAND is not started.  0: go on; 1: not started, out says why.
 */
int
register_with_parent(struct sup *s)
{
	const struct ctx *parent = s->r->ctx->parent;
	struct msg m;

	if (!ctx_nested(s->r->ctx))
		return 0;
	int fd = registry_connect(parent->token);
	if (fd < 0)
		return 0;	/* gone, or another network namespace: see ctxrun(1) */
	if (msg_send(fd, MSG_REGISTER, NULL) == -1) {
		close(fd);
		return 0;
	}
	while (wait_before_start(s, fd) == 1) {
		int rc = msg_recv(fd, &m);
		if (rc == 0)
			continue;
		if (rc == 1 && m.kind == MSG_ACK) {
			s->nest.parent_fd = fd;
			return 0;
		}
		if (rc == 1 && m.kind == MSG_REFUSED)
			break;	/* signalled like any process, then */
		if (rc == 1 && m.kind == MSG_DONE)
			s->out->cause = parent_cause(&m, &s->out->signal);
		else if (kill(parent->pid, 0) == 0 || errno == EPERM)
			break;	/* it lives, and dropped us (out of descriptors) */
		else
			s->out->cause = DONE_PARENT_GONE;
		break;
	}
	close(fd);
	if (s->out->cause == DONE_NOT_YET)
		return 0;
	s->out->command_alive_at_done = true;	/* it would have been */
	return 1;
}

/* The registry's socket and its peers: listen first, then peers[0..). */
static size_t
registry_nfds(const struct sup *s)
{
	return 1 + s->nest.reg.npeers;
}

static size_t
registry_fds(struct sup *s, struct pollfd *fds, size_t max)
{
	size_t k = 0;

	if (max == 0)
		return 0;
	fds[k++] = (struct pollfd){ .fd = s->nest.reg.listen_fd, .events = POLLIN };
	for (size_t i = 0; i < s->nest.reg.npeers && k < max; i++)
		fds[k++] = (struct pollfd){ .fd = s->nest.reg.peers[i].fd, .events = POLLIN };
	return k;
}

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

static bool
registry_ready(struct sup *s, const struct pollfd *fds, size_t n)
{
	bool any = false;

	/* Backwards: a dropped peer's place is taken by the last one, which
	 * was read already. */
	for (size_t i = n - 1; i-- > 0;)
		if (fds[1 + i].revents != 0) {
			any = true;
			read_peer(s, i);
		}
	if (fds[0].revents != 0) {
		size_t first_new = s->nest.reg.npeers;
		any = true;
		/* On failure (out of memory) the peer waits in the backlog. */
		(void)registry_accept(&s->nest.reg);
		for (size_t i = s->nest.reg.npeers; i-- > first_new;)
			read_peer(s, i);
	}
	return any;
}

/* Leaving leftovers running (GNU timeout): nested ctxruns among them must
 * not take our exit for a kill. */
static void
registry_end(struct sup *s)
{
	for (size_t i = 0; i < s->nest.reg.npeers; i++)
		if (s->nest.reg.peers[i].nested)
			(void)msg_send(s->nest.reg.peers[i].fd, MSG_DETACH, NULL);
	registry_close(&s->nest.reg);
}

const struct module registry_module = {
	.name = "registry",
	.nfds = registry_nfds,
	.fds = registry_fds,
	.ready = registry_ready,
	.close = registry_end,
};

static size_t
parent_nfds(const struct sup *s)
{
	return s->nest.parent_fd >= 0;
}

static size_t
parent_fds(struct sup *s, struct pollfd *fds, size_t max)
{
	if (s->nest.parent_fd < 0 || max == 0)
		return 0;
	fds[0] = (struct pollfd){ .fd = s->nest.parent_fd, .events = POLLIN };
	return 1;
}

static bool
parent_ready(struct sup *s, const struct pollfd *fds, size_t n)
{
	struct msg m;
	int rc;

	(void)n;
	if (fds[0].revents == 0 || s->nest.parent_fd < 0)
		return false;
	while ((rc = msg_recv(s->nest.parent_fd, &m)) == 1)
		handle_parent(s, &m);
	if (rc == -1 && s->nest.parent_detached) {
		close(s->nest.parent_fd);
		s->nest.parent_fd = -1;
	} else if (rc == -1)
		parent_gone(s);
	return true;
}

static void
parent_close(struct sup *s)
{
	if (s->nest.parent_fd >= 0)
		close(s->nest.parent_fd);
	s->nest.parent_fd = -1;
}

const struct module parent_module = {
	.name = "parent",
	.nfds = parent_nfds,
	.fds = parent_fds,
	.ready = parent_ready,
	.close = parent_close,
};
