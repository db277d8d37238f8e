/*
 * The registry: how processes of a tree talk to their ctxrun.
 *
 * A SOCK_SEQPACKET socket in the abstract namespace, "\0ctxrun-" and 32
 * random hex digits: nothing on the file system, gone when ctxrun dies.
 * A connection, unlike the datagram it replaces, cannot be lost to a full
 * queue (connect waits for room in the backlog), keeps message boundaries,
 * tells each side when the other goes away, and carries the peer's pid and
 * uid from the kernel (SO_PEERCRED) and a pidfd on it (SO_PEERPIDFD).
 * The name is not a secret (it is listed in /proc/net/unix): whom to trust
 * is decided at accept, from those credentials and the tree.
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
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "internal.h"
#include "registry.h"

#ifndef SO_PEERPIDFD
#define SO_PEERPIDFD 77         /* Linux 6.5 */
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

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
	for (size_t i = 0; i < r->npeers; i++) {
		close(r->peers[i].fd);
		close(r->peers[i].pidfd);
	}
	free(r->peers);
	r->peers = NULL;
	r->npeers = r->cap = r->nmembers = r->nvisitors = 0;
	if (r->listen_fd >= 0)
		close(r->listen_fd);
	r->listen_fd = -1;
	if (r->reserve_fd >= 0)
		close(r->reserve_fd);
	r->reserve_fd = -1;
}

/* Refuses a connection and closes it.  What the peer already sent is read
 * first: closing on unread data would reset the connection, and the answer
 * with it. */
static void
refuse_fd(int fd, const char *why)
{
	struct msg ask, m = { 0 };

	(void)msg_recv(fd, &ask);
	strlcpy(m.text, why, sizeof(m.text));
	(void)msg_send(fd, MSG_REFUSED, &m);
	close(fd);
}

/* Out of descriptors (accept says so before it looks at the queue): the
 * reserve makes room to accept a waiting peer and refuse it, so that it goes
 * on (a nested ctxrun unregistered, a cancel with exit 1) instead of
 * waiting.  Whether there was one. */
static bool
refuse_for_lack_of_descriptors(struct registry *r)
{
	if (r->reserve_fd < 0)
		return false;
	close(r->reserve_fd);
	int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (fd >= 0)
		refuse_fd(fd, "it has no file descriptor left");
	r->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	return fd >= 0;
}

/* A pidfd turns readable when its process exits.  poll, not a signal 0:
 * pidfd_send_signal may be missing where pidfds are not (a seccomp
 * filter, valgrind). */
static bool
pidfd_alive(int pidfd)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };

	return poll(&p, 1, 0) == 0;
}

bool
peer_alive(const struct peer *p)
{
	return pidfd_alive(p->pidfd);
}

int
peer_signal(const struct peer *p, int sig)
{
	int rc = (int)syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);

	/* Without the call: by PID, once the pidfd says it is still this one. */
	if (rc == -1 && errno == ENOSYS && pidfd_alive(p->pidfd))
		rc = kill(p->pid, sig);
	return rc;
}

/* The effective uid of pid, from /proc; -1 when it cannot be read. */
static long
proc_euid(pid_t pid)
{
	char path[64], line[256];
	long ruid, euid = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "re");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Uid: %ld %ld", &ruid, &euid) == 2)
			break;
	fclose(f);
	return euid;
}

/*
 * A pidfd on the process that connected, or -1: the peer cannot be pinned
 * (it is gone already).  The kernel gives it (SO_PEERPIDFD, Linux 6.5).
 * Before that, the PID is opened and must still be a process of the user
 * that connected: another user's process that took over the PID is not
 * taken for the peer.  (A process of the same user in between, within the
 * moment from connect to accept, could be; the kernel's pidfd closes that.)
 */
static int
pin_peer(int fd, const struct ucred *cred)
{
	int pidfd = -1;
	socklen_t len = sizeof(pidfd);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERPIDFD, &pidfd, &len) == 0)
		return pidfd_alive(pidfd) ? pidfd : (close(pidfd), -1);
	if (errno != ENOPROTOOPT && errno != EINVAL)
		return -1;
	pidfd = (int)syscall(SYS_pidfd_open, cred->pid, 0);
	if (pidfd < 0)
		return -1;
	/* Read while the pidfd holds the process, then checked alive: the
	 * reading was of this process. */
	if (proc_euid(cred->pid) != (long)cred->uid || !pidfd_alive(pidfd)) {
		close(pidfd);
		return -1;
	}
	return pidfd;
}

/* The oldest visitor makes way for a new one. */
static void
drop_oldest_visitor(struct registry *r)
{
	size_t oldest = r->npeers;

	for (size_t i = 0; i < r->npeers; i++)
		if (!r->peers[i].member &&
		    (oldest == r->npeers || r->peers[i].seq < r->peers[oldest].seq))
			oldest = i;
	if (oldest == r->npeers)
		return;
	struct msg m = { 0 };
	strlcpy(m.text, "too many connections from outside the tree", sizeof(m.text));
	(void)msg_send(r->peers[oldest].fd, MSG_REFUSED, &m);
	registry_drop(r, oldest);
}

/* Takes a connection that was accepted: pinned and judged, kept or
 * refused.  -1 only when out of memory. */
static int
take_peer(struct registry *r, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == -1) {
		close(fd);
		return 0;
	}
	int pidfd = pin_peer(fd, &cred);
	if (pidfd < 0) {
		refuse_fd(fd, "its identity cannot be pinned");
		return 0;
	}
	/* Of the tree if the walk up from its PID meets us while the pidfd
	 * says it lives: that PID was this process throughout. */
	bool member = r->is_member != NULL &&
	    r->is_member(r->is_member_arg, cred.pid) && pidfd_alive(pidfd);
	bool ours = cred.uid == getuid() || cred.uid == geteuid() || cred.uid == 0;
	const char *why = NULL;
	if (!member && !ours)
		why = "not a process of this tree, nor of its user";
	else if (member && r->max_peers > 0 && r->nmembers >= r->max_peers)
		why = "it has no file descriptor left";
	if (why != NULL) {
		close(pidfd);
		refuse_fd(fd, why);
		return 0;
	}
	if (!member && r->nvisitors >= VISITORS_MAX)
		drop_oldest_visitor(r);
	if (r->npeers == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 8;
		struct peer *v = reallocarray(r->peers, cap, sizeof(*v));
		if (v == NULL) {
			close(pidfd);
			close(fd);
			return -1;
		}
		r->peers = v;
		r->cap = cap;
	}
	r->peers[r->npeers++] = (struct peer){ .fd = fd, .pidfd = pidfd,
	    .pid = cred.pid, .uid = cred.uid, .member = member, .seq = ++r->seq };
	if (member)
		r->nmembers++;
	else
		r->nvisitors++;
	return 0;
}

/* A bounded number per wake-up: connections that come as fast as they are
 * taken (another user's connect-and-close flood) would otherwise keep the
 * loop here, and the deadline, the tree and the tree's own peers would wait
 * for as long as the flood lasts. */
#define ACCEPTS_PER_WAKE 64

int
registry_accept(struct registry *r)
{
	for (int taken = 0; taken < ACCEPTS_PER_WAKE; taken++) {
		int fd = accept4(r->listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if ((errno == EMFILE || errno == ENFILE) &&
			    refuse_for_lack_of_descriptors(r))
				continue;
			return 0;	/* the queue is empty, or nothing can be done */
		}
		if (take_peer(r, fd) == -1)
			return -1;
	}
	return 0;	/* the rest at the next wake-up */
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
	close(r->peers[i].pidfd);
	if (r->peers[i].member)
		r->nmembers--;
	else
		r->nvisitors--;
	r->peers[i] = r->peers[--r->npeers];
}

struct peer *
registry_nested(struct registry *r, pid_t pid)
{
	for (size_t i = 0; i < r->npeers; i++)
		if (r->peers[i].nested && r->peers[i].pid == pid)
			return peer_alive(&r->peers[i]) ? &r->peers[i] : NULL;
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
