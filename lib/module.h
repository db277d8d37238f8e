/*
 * A feature of the supervisor as the loop (loop.c) sees it.  The loop knows
 * no feature: it asks every module in turn for its descriptors and its
 * next wake-up, waits once, and hands each module back what is ready and
 * every child reaped.  Every member may be NULL.  Private to lib/.
 *
 * Adding a module: its file (which defines NAME_module), its state in
 * struct sup (sup.h), and its line in MODULES below.  The order of the
 * lines is the order of the calls: output is read before messages, and
 * messages before signals, so that what the tree wrote or asked before it
 * exited is acted on first.
 */
#ifndef CTXRUN_MODULE_H
#define CTXRUN_MODULE_H

#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sup;

struct module {
	const char *name;
	/* How many descriptors it may want to wait on now, at most. */
	size_t (*nfds)(const struct sup *s);
	/* Puts them in fds (room for max); returns how many. */
	size_t (*fds)(struct sup *s, struct pollfd *fds, size_t max);
	/* After the wait: its descriptors as it put them, with revents.
	 * True if what was ready can have changed a child or the phase
	 * (the tree's output alone cannot). */
	bool (*ready)(struct sup *s, const struct pollfd *fds, size_t n);
	/* Before the wait: acts on what is due now; returns when it next
	 * wants to wake (CTX_NEVER: no time of its own). */
	int64_t (*next_wake)(struct sup *s, int64_t now);
	/* A child of ctxrun ended: waitid()'s answer. */
	void (*reaped)(struct sup *s, const siginfo_t *si);
	/* Whether what it ran for the phase is over (CE_MODULE_FINISHED). */
	bool (*finished)(const struct sup *s);
	/* At the end of the run: what it holds is let go. */
	void (*close)(struct sup *s);
};

/* Every module, in the order of the calls. */
#define MODULES(X) \
	X(idle)         /* idle.c: the idle clock and the relay of the output */ \
	X(registry)     /* nesting.c: nested ctxruns, cancel, retry */ \
	X(parent)       /* nesting.c: the enclosing ctxrun's connection */ \
	X(signals)      /* received.c: signals sent to ctxrun */ \
	X(command)      /* supervise.c: COMMAND's own end */ \
	X(hook)         /* hook.c: --on-timeout */ \
	X(warn)         /* warn.c: --warn */ \
	X(attempts)     /* attempts.c: what the attempts share */ \
	X(terminal)     /* terminal.c: the terminal ctxrun was started on */

#define MODULE_DECLARE(name) extern const struct module name##_module;
MODULES(MODULE_DECLARE)
#undef MODULE_DECLARE

/* The modules, in order, NULL-terminated (loop.c). */
extern const struct module *const modules[];

/* loop.c: the hooks over every module. */
void modules_reaped(struct sup *s, const siginfo_t *si);
bool modules_finished(const struct sup *s);
void modules_close(struct sup *s);      /* last module first */

#endif
