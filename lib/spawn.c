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
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctxrun.h"

pid_t
spawn_command(char *const argv[], const struct spawn_attr *a, int *exec_errno)
{
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
		if (a->stdin_fd >= 0 && dup2(a->stdin_fd, STDIN_FILENO) == -1) {
			child_errno = errno;
			_exit(EXIT_CANNOT_RUN);
		}
		if (a->nofile != NULL)
			setrlimit(RLIMIT_NOFILE, a->nofile);
		sigprocmask(SIG_SETMASK, a->child_mask, NULL);
		execvp(argv[0], argv);
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
