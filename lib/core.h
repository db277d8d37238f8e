/*
 * The core of a run, as data: for each phase, what each event does.  The
 * supervisor (supervise.c) turns what happened into one of these events and
 * does what the table says; nothing else decides that a phase ends.  The
 * table is pure, so that tests/unit/test_core.c reads it without a process.
 * Private to lib/.
 */
#ifndef CTXRUN_CORE_H
#define CTXRUN_CORE_H

enum phase {
	PHASE_RUNNING,          /* COMMAND runs; wakes at the deadline */
	PHASE_HOOK,             /* --on-timeout looks at the tree; wakes at its limit */
	PHASE_SIGNALLED,        /* the first signal went out; wakes at the grace's end */
	PHASE_KILLING,          /* KILL went out; looks again while anything lived */
	PHASE_DONE,             /* nothing is left (or is left on purpose) */
	PHASE_WAITING,          /* between attempts: nothing runs */
	PHASE_COUNT
};

enum core_event {
	CE_DEADLINE,            /* the deadline, the idle clock, a signal taken as them */
	CE_CANCEL,              /* ctxrun cancel; the enclosing context done or gone */
	CE_SIGNAL,              /* a signal that ends the context, sent to ctxrun */
	CE_COMMAND_EXITED,      /* looked at after a wake-up: COMMAND is reaped */
	CE_TREE_EMPTY,          /* ... and nothing of the tree is left */
	CE_MODULE_FINISHED,     /* the module the phase waits on is done (the hook) */
	CE_TIMER,               /* the phase's own wake-up time came */
	CE_REAPED,              /* a wake-up that may have reaped or re-parented */
	CE_COUNT
};

enum core_action {
	CA_NONE,                /* the phase goes on */
	CA_END,                 /* the context is done: the hook, or the first signal */
	CA_END_WAIT,            /* between attempts: the run ends now, no retry */
	CA_FINAL,               /* the attempt ended already: no attempt after it */
	CA_CUT_HOOK,            /* stop waiting for the hook; final too */
	CA_END_HOOK,            /* kill the hook; then the first signal */
	CA_KILL,                /* KILL what is left, and look again later */
	CA_LEFTOVERS,           /* COMMAND exited: the leftovers policy decides */
	CA_DONE,                /* the attempt (or the wait) is over */
	CA_COUNT
};

enum core_action core_action(enum phase phase, enum core_event event);

/* Names, for tests and for reading the table. */
const char *phase_name(enum phase phase);
const char *core_event_name(enum core_event event);
const char *core_action_name(enum core_action action);

#endif
