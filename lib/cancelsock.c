/*
 * How processes of a tree talk to their ctxrun: a datagram socket in the
 * abstract namespace, "\0ctxrun-" and 32 random hex digits.  Nothing to
 * clean up on the file system, gone when ctxrun dies, and a name nobody can
 * guess without reading the environment of a process of the tree.  The
 * receiver checks the sender's uid (SO_PASSCRED).
 *
 * Wire format: "<kind> <num1> <num2> <text>".
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctxrun.h"

static socklen_t
address(const char *token, struct sockaddr_un *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	int n = snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "ctxrun-%s", token);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)n);
}

int
csock_open(char token[33])
{
	unsigned char rnd[16];
	struct sockaddr_un sa;
	int fd, one = 1;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		return -1;
	for (int i = 0; i < 16; i++)
		snprintf(token + 2 * i, 3, "%02x", rnd[i]);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa, address(token, &sa)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_PASSCRED, &one, sizeof(one)) == -1) {
		int e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

int
csock_send(const char *token, const struct ctx_msg *m)
{
	struct sockaddr_un sa;
	char buf[320];
	int n = snprintf(buf, sizeof(buf), "%c %d %d %s", m->kind, m->num1,
	    m->num2, m->text);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (n >= (int)sizeof(buf))
		n = sizeof(buf) - 1;
	ssize_t r = sendto(fd, buf, (size_t)n, MSG_DONTWAIT,
	    (struct sockaddr *)&sa, address(token, &sa));
	int e = errno;
	close(fd);
	errno = e;
	return r == n ? 0 : -1;
}

int
csock_recv(int fd, struct ctx_msg *m)
{
	char buf[320];
	union {
		struct cmsghdr align;
		char space[CMSG_SPACE(sizeof(struct ucred))];
	} control;
	struct iovec iov = { buf, sizeof(buf) - 1 };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = control.space, .msg_controllen = sizeof(control.space),
	};
	ssize_t n;

	for (;;) {
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
		if (n >= 0)
			break;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 0;
		if (errno != EINTR)
			return -1;
	}
	buf[n] = '\0';
	memset(m, 0, sizeof(*m));
	m->uid = (uid_t)-1;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
			struct ucred cred;
			memcpy(&cred, CMSG_DATA(c), sizeof(cred));
			m->uid = cred.uid;
		}
	int off = 0;
	if (sscanf(buf, "%c %d %d %n", &m->kind, &m->num1, &m->num2, &off) < 3 || off == 0)
		m->kind = '?';	/* not ours: the caller ignores it */
	else
		strlcpy(m->text, buf + off, sizeof(m->text));
	return 1;
}
