/*
 * The output relay of --idle-timeout: ctxrun between the tree and the real
 * standard output and error, to see when the tree last wrote.
 *
 * It must change nothing the command can see, so each destination gets the
 * channel that looks like it:
 *
 *   a terminal      a pseudo-terminal with the terminal's modes and size
 *                   (isatty, colours, line buffering); output processing is
 *                   left to the real terminal, so the bytes pass unchanged
 *   anything else   a pipe, its bytes moved by splice(2) without a copy
 *
 * Standard output and error that are one open file (`>log 2>&1`) share one
 * channel, so that their interleaving is exactly what it would have been.
 * Nothing is kept in ctxrun: each wake-up moves all the tree wrote before
 * ctxrun waits again, and a destination that is full is waited for
 * (POLLOUT) while the command blocks on its full channel, as it would have
 * on the destination itself.
 *
 * ctxrun must never block on a destination: a reader that stopped reading
 * would stop the deadline too.  Pipes, FIFOs and terminals are reopened
 * through /proc/self/fd, which gives ctxrun a description of its own to make
 * non-blocking (O_NONBLOCK on the shared one would surprise everyone else
 * writing there).  Files are written through the caller's description, to
 * share its offset and O_APPEND; writing a file does not wait for a reader.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>
#include <linux/kcmp.h>

#include "internal.h"
#include "relay.h"

/* The relay pipe holds this much before the tree's writes block: as much
 * as an unprivileged process may ask for, so that a fast writer and ctxrun
 * wake each other up less often. */
#define RELAY_PIPE_SIZE (1 << 20)
#define COPY_SIZE 65536

/* Whether fds a and b are one open file description. */
static bool
same_open_file(int a, int b)
{
	struct stat sa, sb;
	long rc = syscall(SYS_kcmp, getpid(), getpid(), KCMP_FILE, a, b);

	if (rc >= 0)
		return rc == 0;
	/* No kcmp (seccomp, an old kernel): the same inode at the same
	 * offset with the same flags is as close as one can tell. */
	if (fstat(a, &sa) == -1 || fstat(b, &sb) == -1 ||
	    sa.st_dev != sb.st_dev || sa.st_ino != sb.st_ino)
		return false;
	return fcntl(a, F_GETFL) == fcntl(b, F_GETFL) &&
	    lseek(a, 0, SEEK_CUR) == lseek(b, 0, SEEK_CUR);
}

/* Two descriptions of one terminal (2>/dev/tty): one screen, one channel. */
static bool
same_terminal(int a, int b)
{
	struct stat sa, sb;

	return isatty(a) && isatty(b) && fstat(a, &sa) == 0 && fstat(b, &sb) == 0 &&
	    sa.st_rdev == sb.st_rdev;
}

/* A non-blocking description of ctxrun's own for what fd is open on, or a
 * blocking copy of fd when it cannot be reopened (a terminal of another
 * user, a pipe whose reader is already gone). */
static int
own_sink(int fd, bool reopen, bool *nonblocking)
{
	char path[32];
	int s = -1;

	*nonblocking = false;
	if (reopen) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		s = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		*nonblocking = s >= 0;
	}
	return s >= 0 ? s : fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

/* A pipe(2), not a FIFO with a name ("pipe:[INODE]" in /proc). */
static bool
anonymous_pipe(int fd)
{
	char path[32], target[16];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, target, sizeof(target));
	return n >= 6 && memcmp(target, "pipe:[", 6) == 0;
}

/* A pseudo-terminal that looks like the terminal on fd. */
static int
open_pty(struct relay_channel *ch, int fd)
{
	struct termios t;
	struct winsize ws;
	char name[64];

	ch->src = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (ch->src < 0 || grantpt(ch->src) == -1 || unlockpt(ch->src) == -1 ||
	    ptsname_r(ch->src, name, sizeof(name)) != 0)
		return -1;
	ch->tree_end = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (ch->tree_end < 0)
		return -1;
	if (tcgetattr(fd, &t) == 0) {
		/* The real terminal turns \n into \r\n: doing it here too
		 * would change the bytes it gets. */
		t.c_oflag &= ~(tcflag_t)OPOST;
		(void)tcsetattr(ch->tree_end, TCSANOW, &t);
	}
	(void)tcgetattr(ch->tree_end, &ch->modes_seen);
	if (ioctl(fd, TIOCGWINSZ, &ws) == 0)
		(void)ioctl(ch->src, TIOCSWINSZ, &ws);
	ch->pty = true;
	return 0;
}

static int
open_channel(struct relay_channel *ch, int fd)
{
	struct stat st;
	int p[2];

	*ch = (struct relay_channel){ .src = -1, .tree_end = -1, .sink = -1 };
	if (fstat(fd, &st) == -1)
		return -1;
	if (isatty(fd) && open_pty(ch, fd) == 0) {
		ch->sink = own_sink(fd, true, &ch->sink_nonblocking);
		ch->term_fd = ch->sink;
	} else {
		if (ch->src >= 0)
			close(ch->src);
		if (ch->tree_end >= 0)
			close(ch->tree_end);
		ch->pty = false;
		if (pipe2(p, O_CLOEXEC) == -1)
			return -1;
		ch->src = p[0];
		ch->tree_end = p[1];
		(void)fcntl(ch->src, F_SETPIPE_SZ, RELAY_PIPE_SIZE);
		ch->socket = S_ISSOCK(st.st_mode);
		ch->splice = !ch->socket;
		ch->sink = own_sink(fd, S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode),
		    &ch->sink_nonblocking);
		/* A named FIFO's reader can come back, and a write then
		 * reaches it: only a failed write closes that channel. */
		ch->named_fifo = S_ISFIFO(st.st_mode) && !anonymous_pipe(fd);
	}
	if (ch->sink < 0 || fcntl(ch->src, F_SETFL, O_NONBLOCK) == -1)
		return -1;
	return 0;
}

int
relay_open(struct relay *r)
{
	memset(r, 0, sizeof(*r));
	for (size_t i = 0; i < 2; i++)
		r->ch[i] = (struct relay_channel){ .src = -1, .tree_end = -1, .sink = -1,
		    .term_fd = -1 };
	r->tree_fd[0] = r->tree_fd[1] = r->tree_fd[2] = -1;
	for (int fd = STDOUT_FILENO; fd <= STDERR_FILENO; fd++) {
		/* Closed by the caller (ctxrun holds the place with a
		 * close-on-exec /dev/null): closed for the tree too. */
		int fl = fcntl(fd, F_GETFD);
		if (fl == -1 || (fl & FD_CLOEXEC))
			continue;
		if (fd == STDERR_FILENO && r->tree_fd[STDOUT_FILENO] >= 0 &&
		    (same_open_file(STDOUT_FILENO, fd) ||
		    same_terminal(STDOUT_FILENO, fd))) {
			r->tree_fd[fd] = r->tree_fd[STDOUT_FILENO];
			continue;
		}
		struct relay_channel *ch = &r->ch[r->n];
		if (open_channel(ch, fd) == -1) {
			int e = errno;
			relay_close(r);
			errno = e;
			return -1;
		}
		r->n++;
		r->tree_fd[fd] = ch->tree_end;
		/* A reader gone before the start: closed at once, so that the
		 * tree's first write fails, as it would have. */
		struct pollfd pfd = { .fd = ch->sink };
		if (!ch->named_fifo && poll(&pfd, 1, 0) == 1)
			relay_ready(r, r->n - 1, &pfd);
	}
	return 0;
}

void
relay_close(struct relay *r)
{
	for (size_t i = 0; i < 2; i++) {
		struct relay_channel *ch = &r->ch[i];
		if (ch->src >= 0)
			close(ch->src);
		if (ch->tree_end >= 0)
			close(ch->tree_end);
		if (ch->sink >= 0)
			close(ch->sink);
		free(ch->buf);
		*ch = (struct relay_channel){ .src = -1, .tree_end = -1, .sink = -1,
		    .term_fd = -1 };
	}
	r->n = 0;
}

/* The destination failed: the reader went away (err EPIPE), or a disk is
 * full, a file too big, a terminal hung up.  Nothing more can be passed
 * on, so the channel is closed: the tree's next write to it fails (EPIPE
 * and SIGPIPE; EIO on a pseudo-terminal), as a write to a destination
 * whose reader is gone would have. */
static void
channel_gone(struct relay_channel *ch, int err)
{
	close(ch->src);
	ch->src = -1;
	ch->gone = true;
	ch->stalled = false;
	ch->error = err;
}

static ssize_t
sink_write(struct relay_channel *ch, const char *buf, size_t len)
{
	if (ch->socket)
		return send(ch->sink, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write_without_waiting(ch->sink, buf, len, ch->sink_nonblocking);
}

/*
 * A write that does not wait for a reader.  On a description of ctxrun's
 * own (nonblocking) that is O_NONBLOCK.  On one it shares and could not
 * reopen (a terminal of another user, reached through sudo), it writes only
 * when poll says there is room, and no more than surely fits: PIPE_BUF on
 * a pipe; on a terminal a little, since a terminal stopped (Ctrl-S) has no
 * room at all but one that has some says not how much.
 */
ssize_t
write_without_waiting(int fd, const void *buf, size_t len, bool nonblocking)
{
	struct stat st;

	if (nonblocking || fstat(fd, &st) == -1 || S_ISREG(st.st_mode))
		return write(fd, buf, len);
	if (S_ISSOCK(st.st_mode))
		return send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	struct pollfd p = { .fd = fd, .events = POLLOUT };
	int r = poll(&p, 1, 0);
	if (r == -1)
		return -1;
	if (r == 0 || !(p.revents & (POLLOUT | POLLERR | POLLHUP))) {
		errno = EAGAIN;
		return -1;
	}
	size_t most = S_ISFIFO(st.st_mode) ? PIPE_BUF : S_ISCHR(st.st_mode) ? 64 : len;
	return write(fd, buf, len < most ? len : most);
}

/* Writes what a copy read; false when it must stop (stalled or gone). */
static bool
flush_copy(struct relay_channel *ch)
{
	while (ch->off < ch->len) {
		ssize_t w = sink_write(ch, ch->buf + ch->off, ch->len - ch->off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			ch->stalled = true;
			return false;
		}
		if (w <= 0) {
			channel_gone(ch, w < 0 ? errno : EIO);
			return false;
		}
		ch->off += (size_t)w;
	}
	ch->off = ch->len = 0;
	return true;
}

static bool resize(struct relay_channel *ch);

/*
 * A program that sets the terminal's input modes through its standard
 * output (curses: cbreak, no echo) sets the pseudo-terminal's; its
 * keyboard input comes through the real terminal.  What it changed there
 * is copied to the real terminal when it next writes (a curses program
 * draws right after): input and local modes and control characters; not
 * the output modes, which the real terminal applies for the
 * pseudo-terminal.  Only in the foreground, where the program itself
 * could have set them.
 */
static void
mirror_modes(struct relay_channel *ch)
{
	struct termios now, real;

	if (ch->term_fd < 0 || tcgetattr(ch->tree_end, &now) == -1 ||
	    (now.c_iflag == ch->modes_seen.c_iflag && now.c_lflag == ch->modes_seen.c_lflag &&
	    memcmp(now.c_cc, ch->modes_seen.c_cc, sizeof(now.c_cc)) == 0))
		return;
	ch->modes_seen = now;
	if (tcgetpgrp(ch->term_fd) != getpgrp() || tcgetattr(ch->term_fd, &real) == -1)
		return;
	real.c_iflag = now.c_iflag;
	real.c_lflag = now.c_lflag;
	memcpy(real.c_cc, now.c_cc, sizeof(real.c_cc));
	(void)tcsetattr(ch->term_fd, TCSANOW, &real);
}

size_t
relay_pump(struct relay *r, size_t i)
{
	struct relay_channel *ch = &r->ch[i];
	size_t moved = 0;
	int pending;

	if (ch->gone)
		return 0;
	/* A terminal resized while ctxrun was not told (a background job
	 * gets no SIGWINCH): its size goes with its output; and modes set
	 * through the pseudo-terminal go to the keyboard's terminal. */
	if (ch->pty) {
		resize(ch);
		mirror_modes(ch);
	}
	ch->stalled = false;
	while (flush_copy(ch)) {
		if (ch->splice) {
			/* As much as the tree wrote: less moved means the
			 * destination (a pipe) is full. */
			if (ioctl(ch->src, FIONREAD, &pending) == -1 || pending <= 0)
				break;
			ssize_t n = splice(ch->src, NULL, ch->sink, NULL, (size_t)pending,
			    SPLICE_F_NONBLOCK | SPLICE_F_MOVE);
			if (n > 0)
				moved += (size_t)n;
			if (n == pending)
				continue;
			if (n >= 0 || errno == EAGAIN) {
				ch->stalled = true;
				break;
			}
			if (errno == EINTR)
				continue;
			if (errno == EINVAL) {
				ch->splice = false;	/* the destination cannot */
				continue;
			}
			channel_gone(ch, errno);
			break;
		}
		if (ch->buf == NULL && (ch->buf = malloc(COPY_SIZE)) == NULL)
			break;	/* look again at the next wake-up */
		ssize_t n = read(ch->src, ch->buf, COPY_SIZE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* empty (EAGAIN), or a pty without slaves (EIO) */
		moved += (size_t)n;
		ch->off = 0;
		ch->len = (size_t)n;
	}
	return moved;
}

bool
relay_stalled(const struct relay *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->ch[i].stalled)
			return true;
	return false;
}

size_t
relay_pollfds(const struct relay *r, struct pollfd *fds, size_t *which)
{
	size_t k = 0;

	for (size_t i = 0; i < r->n; i++) {
		const struct relay_channel *ch = &r->ch[i];
		if (ch->gone)
			continue;
		if (!ch->stalled) {
			which[k] = i;
			fds[k++] = (struct pollfd){ .fd = ch->src, .events = POLLIN };
		}
		/* The destination too, for its reader going away (POLLERR on
		 * a pipe, POLLHUP on a socket or terminal): the channel is
		 * closed then, before the tree writes into it again. */
		if (ch->stalled || !ch->named_fifo) {
			which[k] = i;
			fds[k++] = (struct pollfd){ .fd = ch->sink,
			    .events = ch->stalled ? POLLOUT : 0 };
		}
	}
	return k;
}

void
relay_ready(struct relay *r, size_t i, const struct pollfd *pfd)
{
	struct relay_channel *ch = &r->ch[i];

	if (ch->gone || pfd->fd != ch->sink || (pfd->revents & POLLOUT))
		return;
	if (pfd->revents & (POLLERR | POLLHUP))
		channel_gone(ch, ch->pty ? EIO : EPIPE);
}

/* The real terminal's size to the pseudo-terminal, if it changed. */
static bool
resize(struct relay_channel *ch)
{
	struct winsize ws, old;

	if (!ch->pty || ch->term_fd < 0 || ch->src < 0 ||
	    ioctl(ch->term_fd, TIOCGWINSZ, &ws) == -1)
		return false;
	if (ioctl(ch->src, TIOCGWINSZ, &old) == 0 &&
	    old.ws_row == ws.ws_row && old.ws_col == ws.ws_col &&
	    old.ws_xpixel == ws.ws_xpixel && old.ws_ypixel == ws.ws_ypixel)
		return false;
	return ioctl(ch->src, TIOCSWINSZ, &ws) == 0;
}

bool
relay_resize(struct relay *r)
{
	bool changed = false;

	for (size_t i = 0; i < r->n; i++)
		changed |= resize(&r->ch[i]);
	return changed;
}

int
relay_terminal(const struct relay *r)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->ch[i].pty && r->ch[i].term_fd >= 0)
			return r->ch[i].term_fd;
	return -1;
}
