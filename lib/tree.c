/*
 * The process tree below a subreaper, read from /proc.
 *
 * Linux has no "signal all my descendants" call, so the tree is walked from
 * /proc/PID/task/TID/children, parents before children.  Each process is
 * pinned with a pidfd as soon as it is found, and kept only if its parent is
 * still the one that listed it: a PID that was reused between the two reads
 * is never signalled.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "tree.h"

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

struct pending {
	pid_t pid, ppid;
};

struct queue {
	struct pending *v;
	size_t len, cap, head;
};

static int
push(struct queue *q, pid_t pid, pid_t ppid)
{
	if (q->len == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 64;
		struct pending *v = reallocarray(q->v, cap, sizeof(*v));
		if (v == NULL)
			return -1;
		q->v = v;
		q->cap = cap;
	}
	q->v[q->len++] = (struct pending){ pid, ppid };
	return 0;
}

/* The whole of a small /proc file into buf (NUL-terminated); may grow it. */
static ssize_t
slurp(const char *path, char **buf, size_t *cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return -1;
	for (;;) {
		if (*cap - len < 256) {
			size_t ncap = *cap ? *cap * 2 : 4096;
			char *nb = realloc(*buf, ncap);
			if (nb == NULL) {
				close(fd);
				return -1;
			}
			*buf = nb;
			*cap = ncap;
		}
		n = read(fd, *buf + len, *cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	(*buf)[len] = '\0';
	return n < 0 ? -1 : (ssize_t)len;
}

/*
 * Whether pid runs this very program (a ctxrun, registered or not): its
 * command name is ours, and so is its executable.  The name comes free
 * with the stat line (between the first '(' and the last ')'); the
 * executable is looked at only when the name matches.
 */
static bool
same_program(pid_t pid, const char *line, const char *rparen)
{
	static char comm[32];
	static struct stat exe;
	static int known;	/* 0: not yet, 1: known, -1: cannot tell */
	const char *lparen = strchr(line, '(');
	char path[64];
	struct stat st;

	if (known == 0) {
		int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
		ssize_t n = fd >= 0 ? read(fd, comm, sizeof(comm) - 1) : -1;
		if (fd >= 0)
			close(fd);
		known = n > 1 && stat("/proc/self/exe", &exe) == 0 ? 1 : -1;
		if (known == 1)
			comm[n - 1] = '\0';	/* the newline */
	}
	if (known != 1 || lparen == NULL || rparen <= lparen ||
	    (size_t)(rparen - lparen - 1) != strlen(comm) ||
	    memcmp(lparen + 1, comm, strlen(comm)) != 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	return stat(path, &st) == 0 && st.st_dev == exe.st_dev && st.st_ino == exe.st_ino;
}

/* state, ppid, pgrp and num_threads from /proc/PID/stat. */
static int
read_stat(pid_t pid, struct proc *p, long *nthreads, char **buf, size_t *cap)
{
	char path[64];
	long f[18];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (slurp(path, buf, cap) <= 0)
		return -1;
	/* The command name may hold spaces and parentheses: skip to the last ')'. */
	char *s = strrchr(*buf, ')');
	if (s == NULL || sscanf(s + 1, " %c %ld %ld %ld %ld %ld %ld %ld %ld %ld %ld "
	    "%ld %ld %ld %ld %ld %ld %ld", &p->state, &f[0], &f[1], &f[2], &f[3],
	    &f[4], &f[5], &f[6], &f[7], &f[8], &f[9], &f[10], &f[11], &f[12],
	    &f[13], &f[14], &f[15], &f[16]) != 18)
		return -1;
	p->ppid = (pid_t)f[0];
	p->pgrp = (pid_t)f[1];
	*nthreads = f[16];
	p->ctxrun = same_program(pid, *buf, s);
	return 0;
}

/* Appends the children of every thread of pid to q. */
static int
queue_children(struct queue *q, pid_t pid, long nthreads, char **buf, size_t *cap)
{
	char path[80];
	DIR *d = NULL;
	struct dirent *e;
	pid_t tid = pid;

	/* Single-threaded (the usual case): one file, no directory listing. */
	if (nthreads != 1) {
		snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
		if ((d = opendir(path)) == NULL)
			return errno == ENOENT ? 0 : -1;
	}
	for (;;) {
		if (d != NULL) {
			if ((e = readdir(d)) == NULL)
				break;
			if (e->d_name[0] == '.')
				continue;
			tid = (pid_t)atoi(e->d_name);
		}
		snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)pid, (int)tid);
		if (slurp(path, buf, cap) > 0) {
			for (char *s = *buf, *end; *s; s = end) {
				long c = strtol(s, &end, 10);
				if (end == s)
					break;
				if (push(q, (pid_t)c, pid) == -1) {
					if (d)
						closedir(d);
					return -1;
				}
			}
		}
		if (d == NULL)
			break;
	}
	if (d)
		closedir(d);
	return 0;
}

static int
tree_walk(pid_t self, visit_fn visit, void *arg)
{
	struct queue q = { 0 };
	char *buf = NULL;
	size_t cap = 0;
	int rc = 0;
	bool moved = false;     /* a process died or went during the walk */

	if (queue_children(&q, self, 1, &buf, &cap) == -1)	/* ctxrun has one thread */
		rc = -1;
	for (; rc == 0 && q.head < q.len; q.head++) {
		struct pending pp = q.v[q.head];
		struct proc p = { .pid = pp.pid, .pidfd = -1 };
		long nthreads = 0;

		p.pidfd = (int)syscall(SYS_pidfd_open, pp.pid, 0);
		if (p.pidfd < 0 && errno == ESRCH) {
			moved = true;	/* already gone */
			continue;
		}
		/* ENOSYS (before 5.3) or no descriptor left: tree_signal falls
		 * back to kill(), after the parent check below. */
		/* Still the process its parent listed, or one of ours since its
		 * parent died: either way a process of the tree. */
		if (read_stat(pp.pid, &p, &nthreads, &buf, &cap) == 0 &&
		    (p.ppid == pp.ppid || p.ppid == self)) {
			/* A leader whose main thread exited shows Z while its
			 * other threads run, and they may have children: it is
			 * alive until it is reaped. */
			p.alive = (p.state != 'Z' && p.state != 'X') || nthreads > 1;
			/* Children first: visiting may signal the process, and once it
			 * is dead its children are listed nowhere until re-parented. */
			size_t before = q.len;
			if (p.alive &&
			    queue_children(&q, p.pid, nthreads, &buf, &cap) == -1)
				rc = -1;
			if (!p.alive)
				moved = true;	/* its children move to us */
			if (!visit(&p, arg))
				q.len = before;
		} else
			moved = true;	/* gone, or another process by now */
		if (p.pidfd >= 0)
			close(p.pidfd);
	}
	free(q.v);
	free(buf);
	return rc == 0 && moved ? 1 : rc;
}

static int
tree_signal(const struct proc *p, int sig)
{
	if (p->pidfd >= 0)
		return (int)syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0);
	/* Kernel without pidfds (< 5.3): the parent check in tree_walk is all
	 * the protection there is against a reused PID. */
	return kill(p->pid, sig);
}

static bool
tree_proc_usable(void)
{
	static int usable = -1;

	if (usable < 0) {
		/* /proc mounted for another PID namespace (unshare --pid without
		 * --mount-proc) lists other processes under our PIDs. */
		char *buf = NULL;
		size_t cap = 0;
		ssize_t n = slurp("/proc/self/stat", &buf, &cap);
		if (n < 0 && (errno == EMFILE || errno == ENFILE || errno == ENOMEM)) {
			free(buf);
			return true;	/* no answer now: ask again next time */
		}
		usable = n > 0 && atol(buf) == (long)getpid();
		free(buf);
	}
	return usable;
}

char
proc_state(pid_t pid)
{
	struct proc p;
	char *buf = NULL;
	size_t cap = 0;
	long nthreads;
	int rc = read_stat(pid, &p, &nthreads, &buf, &cap);

	free(buf);
	return rc == 0 ? p.state : 0;
}

static bool
tree_contains(pid_t self, pid_t pid)
{
	struct proc p;
	char *buf = NULL;
	size_t cap = 0;
	long nthreads;
	bool found = false;

	/* Every orphan of the tree is re-parented to self (the subreaper), so
	 * the chain of parents of a process of the tree reaches self. */
	for (int hops = 0; pid > 1 && hops < 4096; hops++) {
		if (pid == self) {
			found = true;
			break;
		}
		if (read_stat(pid, &p, &nthreads, &buf, &cap) == -1)
			break;
		pid = p.ppid;
	}
	free(buf);
	return found;
}

/* No child left means no tree left: every orphan of the tree comes back to
 * ctxrun, its subreaper. */
static bool
tree_empty(void)
{
	siginfo_t si;

	return !(waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) == 0 ||
	    errno != ECHILD);
}

static pid_t
tree_last_pid(void)
{
	char buf[24];
	int fd = open("/proc/sys/kernel/ns_last_pid", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	long v = strtol(buf, NULL, 10);
	return v > 0 && v < INT32_MAX ? (pid_t)v : 0;
}

const struct tree_ops tree_proc = {
	.name = "proc",
	.usable = tree_proc_usable,
	.walk = tree_walk,
	.signal = tree_signal,
	.contains = tree_contains,
	.empty = tree_empty,
	.last_pid = tree_last_pid,
};
