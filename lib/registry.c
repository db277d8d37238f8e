/*
 * The registry: how processes of a tree talk to their ctxrun.
 *
 * A SOCK_SEQPACKET socket in the abstract namespace, "\0ctxrun-" and 32
 * random hex digits: nothing on the file system, gone when ctxrun dies.
 * A connection, unlike the datagram it replaces, cannot be lost to a full
 * queue (connect waits for room in the backlog), keeps message boundaries,
 * tells each side when the other goes away, and carries the peer's pid and
 * uid from the kernel (SO_PEERCRED).  The name is not a secret (it is
 * listed in /proc/net/unix): the supervisor decides whom to trust from
 * those credentials.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"
#include "registry.h"

static socklen_t
address(const char *token, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "ctxrun-%s", token);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int
registry_open(struct registry *r, size_t max_peers)
{
	unsigned char rnd[16];
	struct sockaddr_un sa;

	memset(r, 0, sizeof(*r));
	r->listen_fd = -1;
	r->max_peers = max_peers;
	/* Held in reserve: when every descriptor is taken, a peer can still be
	 * accepted and told so, rather than left in the backlog (where it
	 * would wait forever and keep the socket readable: a busy loop). */
	r->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(r->token + 2 * i, 3, "%02x", rnd[i]);
	r->listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (r->listen_fd < 0)
		return -1;
	if (bind(r->listen_fd, (struct sockaddr *)&sa, address(r->token, &sa)) == -1 ||
	    listen(r->listen_fd, SOMAXCONN) == -1) {
		int e = errno;
		close(r->listen_fd);
		r->listen_fd = -1;
		errno = e;
		return -1;
	}
	return 0;
}

void
registry_close(struct registry *r)
{
	for (size_t i = 0; i < r->npeers; i++)
		close(r->peers[i].fd);
	free(r->peers);
	r->peers = NULL;
	r->npeers = r->cap = 0;
	if (r->listen_fd >= 0)
		close(r->listen_fd);
	r->listen_fd = -1;
	if (r->reserve_fd >= 0)
		close(r->reserve_fd);
	r->reserve_fd = -1;
}

/* Out of descriptors (accept says so before it looks at the queue): the
 * reserve makes room to accept a waiting peer and refuse it, so that it goes
 * on (a nested ctxrun unregistered, a cancel with exit 1) instead of
 * waiting.  Whether there was one. */
static bool
refuse_for_lack_of_descriptors(struct registry *r)
{
	struct msg m = { 0 };

	if (r->reserve_fd < 0)
		return false;
	close(r->reserve_fd);
	int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0) {
		struct msg ask;
		/* What the peer already sent is read first: closing on unread
		 * data would reset the connection, and the answer with it. */
		(void)msg_recv(fd, &ask);
		strlcpy(m.text, "it has no file descriptor left", sizeof(m.text));
		(void)msg_send(fd, MSG_REFUSED, &m);
		close(fd);
	}
	r->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0;
}

int
registry_accept(struct registry *r)
{
	for (;;) {
		int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) &&
			    refuse_for_lack_of_descriptors(r))
				continue;
			return 0;	/* the queue is empty, or nothing can be done */
		}
		if (r->max_peers > 0 && r->npeers >= r->max_peers) {
			/* Over budget: the descriptors left are the tree walk's. */
			struct msg ask, m = { 0 };
			(void)msg_recv(fd, &ask);
			strlcpy(m.text, "it has no file descriptor left", sizeof(m.text));
			(void)msg_send(fd, MSG_REFUSED, &m);
			close(fd);
			continue;
		}
		struct ucred cred;
		socklen_t len = sizeof(cred);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
			close(fd);
			continue;
		}
		if (r->npeers == r->cap) {
			size_t cap = r->cap ? r->cap * 2 : 8;
			struct peer *v = reallocarray(r->peers, cap, sizeof(*v));
			if (v == NULL) {
				close(fd);
				return -1;
			}
			r->peers = v;
			r->cap = cap;
		}
		r->peers[r->npeers++] = (struct peer){ .fd = fd, .pid = cred.pid,
		    .uid = cred.uid };
	}
}

int
msg_recv(int fd, struct msg *m)
{
	ssize_t n;

	do
		n = recv(fd, m, sizeof(*m), MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n != (ssize_t)sizeof(*m) || m->version != MSG_VERSION)
		return -1;	/* closed, or not one of ours */
	m->text[sizeof(m->text) - 1] = '\0';
	return 1;
}

int
registry_recv(struct registry *r, size_t i, struct msg *m)
{
	return msg_recv(r->peers[i].fd, m);
}

void
registry_drop(struct registry *r, size_t i)
{
	close(r->peers[i].fd);
	r->peers[i] = r->peers[--r->npeers];
}

struct peer *
registry_nested(struct registry *r, pid_t pid)
{
	for (size_t i = 0; i < r->npeers; i++)
		if (r->peers[i].nested && r->peers[i].pid == pid)
			return &r->peers[i];
	return NULL;
}

int
msg_send(int fd, uint32_t kind, const struct msg *fields)
{
	struct msg m = { 0 };
	ssize_t n;

	if (fields != NULL)
		m = *fields;
	m.version = MSG_VERSION;
	m.kind = kind;
	/* MSG_NOSIGNAL: a peer that went away is an error here, not a
	 * SIGPIPE raised on ctxrun. */
	do
		n = send(fd, &m, sizeof(m), MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(m) ? 0 : -1;
}

int
registry_connect(const char *token)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	while (connect(fd, (struct sockaddr *)&sa, address(token, &sa)) == -1) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Whether a signal that arrived while waiting for an answer would have
 * ended the caller: one its caller ignores, or whose default is to be
 * ignored, would not. */
static bool
would_end(int sig)
{
	struct sigaction sa;

	if (sigaction(sig, NULL, &sa) == -1 || sa.sa_handler == SIG_IGN)
		return false;
	return sig != SIGCHLD && sig != SIGWINCH && sig != SIGURG && sig != SIGCONT;
}

/* Asks and waits for the answer, for ctxrun_ask(): 0 accepted, 1 refused
 * (why in reply->text), -1 unreachable (errno), -2 a signal that ends the
 * caller came first (reply->signal).  Returns with signals blocked. */
static int
registry_call(const char *token, uint32_t kind, const struct msg *m,
    struct msg *reply)
{
	sigset_t all;
	int fd, sfd, rc;

	/*
	 * The caller is often a process of the tree, which gets the first
	 * signal right after the answer.  The kernel decides a fatal signal's
	 * effect when it is sent, so signals stay blocked throughout and are
	 * read from a signalfd while waiting: a signal before the answer ends
	 * the wait as it would have (a Ctrl-C while the ctxrun is stopped),
	 * one that comes with or after it does not change the outcome.
	 */
	sigfillset(&all);
	sigdelset(&all, SIGTSTP);
	sigdelset(&all, SIGTTIN);
	sigdelset(&all, SIGTTOU);
	sigprocmask(SIG_BLOCK, &all, NULL);
	if ((sfd = signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
		return -1;
	if ((fd = registry_connect(token)) < 0) {
		int e = errno;
		close(sfd);
		errno = e;
		return -1;
	}
	if (msg_send(fd, kind, m) == -1) {
		/* It may have refused before reading (no descriptor left). */
		int e = errno;
		rc = msg_recv(fd, reply);
		close(fd);
		close(sfd);
		if (rc == 1 && reply->kind == MSG_REFUSED)
			return 1;
		errno = e;
		return -1;
	}
	struct pollfd pfd[2] = {
		{ .fd = fd, .events = POLLIN },
		{ .fd = sfd, .events = POLLIN },
	};
	for (;;) {
		if (poll(pfd, 2, -1) == -1 && errno != EINTR)
			break;
		if (pfd[0].revents != 0)
			break;
		struct signalfd_siginfo si;
		if (read(sfd, &si, sizeof(si)) == sizeof(si) && would_end((int)si.ssi_signo)) {
			close(fd);
			close(sfd);
			reply->signal = (int32_t)si.ssi_signo;
			errno = EINTR;
			return -2;
		}
	}
	rc = msg_recv(fd, reply);
	close(fd);
	close(sfd);
	if (rc != 1) {
		errno = ECONNRESET;
		return -1;
	}
	return reply->kind == MSG_ACK ? 0 : 1;
}

int
ctxrun_ask(const char *token, const struct ask *a, char why[ASK_TEXT_MAX],
    int *sig)
{
	struct msg m = { .status = a->status, .after = a->after }, reply = { 0 };
	uint32_t kind = MSG_CANCEL;

	if (a->kind != ASK_CANCEL) {
		kind = MSG_RETRY;
		m.status = a->kind == ASK_RETRY_NEVER ? RETRY_NEVER : RETRY_AFTER;
	}
	strlcpy(m.text, a->cause, sizeof(m.text));
	int rc = registry_call(token, kind, &m, &reply);
	if (rc == -2)
		*sig = reply.signal;
	if (rc == 1)
		strlcpy(why, reply.text, ASK_TEXT_MAX);
	return rc;
}
