/*
 * Starting COMMAND.  vfork() shares the parent's memory until exec, so
 * start-up costs no page-table copy; the child does only async-signal-safe
 * work.  An exec failure travels back through a close-on-exec pipe: EOF
 * means exec succeeded, four bytes are the child's errno.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctxrun.h"

pid_t
spawn_command(char *const argv[], const struct spawn_attr *a, int *exec_errno)
{
	int pipefd[2], err = 0;
	pid_t parent = getpid(), pid;
	ssize_t n;

	*exec_errno = 0;
	if (pipe2(pipefd, O_CLOEXEC) == -1) {
		*exec_errno = errno;
		return -1;
	}
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
		sigprocmask(SIG_SETMASK, a->child_mask, NULL);
		execvp(argv[0], argv);
		err = errno;
		(void)!write(pipefd[1], &err, sizeof(err));
		_exit(EXIT_NOT_FOUND);
	}
	if (pid < 0) {
		*exec_errno = errno;
		close(pipefd[0]);
		close(pipefd[1]);
		return -1;
	}
	close(pipefd[1]);
	do
		n = read(pipefd[0], &err, sizeof(err));
	while (n < 0 && errno == EINTR);
	close(pipefd[0]);
	if (n == sizeof(err)) {
		/* The child wrote and exited: reap it here, it is not a command. */
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		*exec_errno = err;
		return -1;
	}
	return pid;
}
