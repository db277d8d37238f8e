/*
 * Starting COMMAND with vfork(): the parent's memory is shared until exec,
 * so start-up copies no page tables, and the parent sleeps until the child
 * has exec'd or exited.  That makes an exec error easy to carry back: the
 * child stores its errno in shared memory before _exit, and when vfork
 * returns the parent reads it, with no pipe to create, read and close, and
 * no second wake-up to wait for the pipe's EOF (glibc's posix_spawn does
 * the same).  The child does only async-signal-safe work.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "internal.h"
#include "spawn.h"

/*
 * execvp, remembering where COMMAND was found: the next attempt of a retried
 * command execs that path at once instead of failing through the PATH
 * again.  The search is the library's (execvp) for anything but the plain
 * case: a name with a slash, ENOEXEC (run by /bin/sh), EACCES.  Runs in the
 * vfork child: `found` is the parent's memory.
 */
static void
exec_command(char *const argv[], char *found, size_t len)
{
	extern char **environ;
	const char *file = argv[0];

	if (found != NULL && found[0] != '\0') {
		execve(found, argv, environ);
		found[0] = '\0';	/* gone since: search again */
	}
	if (found == NULL || *file == '\0' || strchr(file, '/') != NULL) {
		execvp(file, argv);
		return;
	}
	const char *path = getenv("PATH");
	size_t flen = strlen(file);

	for (const char *p = path ? path : "/bin:/usr/bin";; ) {
		const char *end = strchrnul(p, ':');
		size_t dlen = (size_t)(end - p);
		if (dlen + flen + 2 <= len) {
			memcpy(found, p, dlen);
			found[dlen] = '/';
			memcpy(found + dlen + (dlen > 0), file, flen + 1);
			execve(found, argv, environ);
			if (errno != ENOENT && errno != ENOTDIR)
				break;
		}
		if (*end == '\0')
			break;
		p = end + 1;
	}
	found[0] = '\0';
	execvp(file, argv);
}

pid_t
spawn_command(char *const argv[], const struct spawn_attr *a, int *exec_errno)
{
	extern char **environ;
	volatile int child_errno = 0;
	pid_t parent = getpid(), pid;

	*exec_errno = 0;
	pid = vfork();
	if (pid == 0) {
		/* Every signal is still blocked here, so nothing interrupts the
		 * set-up; the caller's mask comes back just before exec. */
		if (a->deathsig != 0) {
			prctl(PR_SET_PDEATHSIG, a->deathsig);
			if (getppid() != parent)
				_exit(EXIT_CTX_FAILED);	/* ctxrun died meanwhile */
		}
		if (a->new_pgrp)
			setpgid(0, 0);
		if (a->restore_sigchld_ign)
			signal(SIGCHLD, SIG_IGN);
		if (a->child_default != NULL)
			for (int sig = 1; sig <= SIGRTMAX; sig++)
				if (sigismember(a->child_default, sig) == 1)
					signal(sig, SIG_DFL);
		if ((a->stdin_fd >= 0 && dup2(a->stdin_fd, STDIN_FILENO) == -1) ||
		    (a->stdout_fd >= 0 && dup2(a->stdout_fd, STDOUT_FILENO) == -1) ||
		    (a->stderr_fd >= 0 && dup2(a->stderr_fd, STDERR_FILENO) == -1)) {
			child_errno = errno;
			_exit(EXIT_CANNOT_RUN);
		}
		if (a->nofile != NULL)
			setrlimit(RLIMIT_NOFILE, a->nofile);
		sigprocmask(SIG_SETMASK, a->child_mask, NULL);
		if (a->program != NULL)
			execve(a->program, argv, environ);
		else
			exec_command(argv, a->exec_path, a->exec_path_len);
		child_errno = errno ? errno : ENOEXEC;
		_exit(EXIT_NOT_FOUND);
	}
	if (pid < 0)
		return -1;	/* errno says why; *exec_errno stays 0 */
	if (child_errno != 0) {
		/* The child has exited: reap it here, it never was COMMAND. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		*exec_errno = child_errno;
		return -1;
	}
	return pid;
}
