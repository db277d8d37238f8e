/*
 * The core's table (lib/core.c), read without a process: each promise the
 * man page makes about a phase is one cell or one column here.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../lib/core.h"
#include "unit.h"

static const enum phase live[] = {
	PHASE_RUNNING, PHASE_HOOK, PHASE_SIGNALLED, PHASE_KILLING,
};

/* The cells the table was written with, one per line: a change to the
 * table shows here as a change to read. */
static const struct cell {
	enum phase phase;
	enum core_event event;
	enum core_action action;
} expected[] = {
	{ PHASE_RUNNING, CE_DEADLINE, CA_END },
	{ PHASE_RUNNING, CE_CANCEL, CA_END },
	{ PHASE_RUNNING, CE_SIGNAL, CA_END },
	{ PHASE_RUNNING, CE_COMMAND_EXITED, CA_LEFTOVERS },
	{ PHASE_RUNNING, CE_TREE_EMPTY, CA_DONE },
	{ PHASE_HOOK, CE_CANCEL, CA_FINAL },
	{ PHASE_HOOK, CE_SIGNAL, CA_CUT_HOOK },
	{ PHASE_HOOK, CE_COMMAND_EXITED, CA_LEFTOVERS },
	{ PHASE_HOOK, CE_TREE_EMPTY, CA_DONE },
	{ PHASE_HOOK, CE_MODULE_FINISHED, CA_END_HOOK },
	{ PHASE_HOOK, CE_TIMER, CA_END_HOOK },
	{ PHASE_SIGNALLED, CE_CANCEL, CA_FINAL },
	{ PHASE_SIGNALLED, CE_SIGNAL, CA_FINAL },
	{ PHASE_SIGNALLED, CE_COMMAND_EXITED, CA_LEFTOVERS },
	{ PHASE_SIGNALLED, CE_TREE_EMPTY, CA_DONE },
	{ PHASE_SIGNALLED, CE_TIMER, CA_KILL },
	{ PHASE_KILLING, CE_CANCEL, CA_FINAL },
	{ PHASE_KILLING, CE_SIGNAL, CA_FINAL },
	{ PHASE_KILLING, CE_COMMAND_EXITED, CA_LEFTOVERS },
	{ PHASE_KILLING, CE_TREE_EMPTY, CA_DONE },
	{ PHASE_KILLING, CE_REAPED, CA_KILL },
	{ PHASE_KILLING, CE_TIMER, CA_KILL },
	{ PHASE_WAITING, CE_DEADLINE, CA_END_WAIT },
	{ PHASE_WAITING, CE_CANCEL, CA_END_WAIT },
	{ PHASE_WAITING, CE_SIGNAL, CA_END_WAIT },
	{ PHASE_WAITING, CE_TIMER, CA_DONE },
};

static enum core_action
expected_action(enum phase p, enum core_event e)
{
	for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
		if (expected[i].phase == p && expected[i].event == e)
			return expected[i].action;
	return CA_NONE;
}

/* Every cell: as written above, and nothing else acts. */
static void
whole_table(void)
{
	for (int p = 0; p < PHASE_COUNT; p++)
		for (int e = 0; e < CE_COUNT; e++) {
			enum core_action got = core_action(p, e), want = expected_action(p, e);
			CHECK(got == want, "%s on %s: %s, expected %s", core_event_name(e),
			    phase_name(p), core_action_name(got), core_action_name(want));
		}
}

/* The promises, each as a user would put it. */
static void
promises(void)
{
	/* A run ends once: no event does anything when it is done. */
	for (int e = 0; e < CE_COUNT; e++)
		CHECK(core_action(PHASE_DONE, e) == CA_NONE, "done acts on %s",
		    core_event_name(e));
	/* Whatever the phase of an attempt, a tree with nothing left is the
	 * end of it. */
	for (size_t i = 0; i < sizeof(live) / sizeof(live[0]); i++)
		CHECK(core_action(live[i], CE_TREE_EMPTY) == CA_DONE,
		    "%s goes on with nothing left", phase_name(live[i]));
	/* Only a running attempt is ended by a cause: once done, the first
	 * cause stands (the message and the status name it); a later signal
	 * or cancel is final all the same. */
	for (size_t i = 1; i < sizeof(live) / sizeof(live[0]); i++) {
		CHECK(core_action(live[i], CE_DEADLINE) == CA_NONE, "deadline in %s",
		    phase_name(live[i]));
		CHECK(core_action(live[i], CE_CANCEL) == CA_FINAL, "cancel in %s",
		    phase_name(live[i]));
	}
	/* Between attempts, anything that ends the context ends the run
	 * before the next attempt starts. */
	CHECK(core_action(PHASE_WAITING, CE_DEADLINE) == CA_END_WAIT, "wait outlives deadline");
	CHECK(core_action(PHASE_WAITING, CE_SIGNAL) == CA_END_WAIT, "wait outlives TERM");
	/* A signal to ctxrun during the hook does not wait for the hook's
	 * limit. */
	CHECK(core_action(PHASE_HOOK, CE_SIGNAL) == CA_CUT_HOOK, "hook outlives TERM");
	/* The grace ends in KILL, and KILL is repeated while anything was
	 * re-parented to ctxrun. */
	CHECK(core_action(PHASE_SIGNALLED, CE_TIMER) == CA_KILL, "no KILL after the grace");
	CHECK(core_action(PHASE_KILLING, CE_REAPED) == CA_KILL, "no second look after KILL");
	/* Nothing waits for a module while the first signal is out. */
	CHECK(core_action(PHASE_SIGNALLED, CE_MODULE_FINISHED) == CA_NONE, "grace cut short");
}

/*
 * The property of issue 16: for any sequence of events, a signal to ctxrun
 * ends the run with no attempt after it.  A model of a run with retries
 * walks the table: each action moves the phase as supervise.c and
 * attempts.c do (where the real code chooses by the policy or by a hook,
 * the model chooses at random), and an attempt that ends (DONE) is
 * followed by another, through WAITING, unless it was made final.
 */
struct model {
	enum phase phase;
	bool final;             /* no attempt after this one */
	bool signalled;         /* a signal reached ctxrun in this run */
	unsigned attempts;
};

static enum phase
pick(enum phase a, enum phase b)
{
	return rand() % 2 ? a : b;
}

static void
step(struct model *m, enum core_event e)
{
	enum core_action a = core_action(m->phase, e);
	bool cause_is_final = e == CE_SIGNAL || e == CE_CANCEL;

	switch (a) {
	case CA_NONE:
	case CA_COUNT:
		break;
	case CA_END:
		m->final |= cause_is_final;
		m->phase = pick(PHASE_HOOK, PHASE_SIGNALLED);
		break;
	case CA_END_WAIT:
		m->final = true;
		m->phase = PHASE_DONE;
		break;
	case CA_FINAL:
	case CA_CUT_HOOK:
		m->final = true;
		break;
	case CA_END_HOOK:
		m->phase = PHASE_SIGNALLED;
		break;
	case CA_KILL:
		m->phase = PHASE_KILLING;
		break;
	case CA_LEFTOVERS:
		m->phase = m->phase == PHASE_RUNNING ?
		    pick(PHASE_RUNNING, pick(PHASE_SIGNALLED, PHASE_DONE)) :
		    pick(m->phase, PHASE_DONE);
		break;
	case CA_DONE:
		/* The wait between attempts is over: the next one starts. */
		m->phase = m->phase == PHASE_WAITING ? PHASE_RUNNING : PHASE_DONE;
		if (m->phase == PHASE_RUNNING) {
			CHECK(!m->final, "attempt %u started after a final cause",
			    m->attempts + 1);
			m->attempts++;
		}
		break;
	}
	/* An attempt ended: the next one is waited for, unless final. */
	if (m->phase == PHASE_DONE && !m->final && a != CA_END_WAIT)
		m->phase = PHASE_WAITING;
}

static void
final_signal_property(void)
{
	srand(15);
	for (int run = 0; run < 20000; run++) {
		struct model m = { .phase = PHASE_RUNNING, .attempts = 1 };
		for (int i = 0; i < 40 && !(m.phase == PHASE_DONE); i++) {
			enum core_event e = rand() % CE_COUNT;
			step(&m, e);
			m.signalled |= e == CE_SIGNAL;
			if (m.signalled && !m.final) {
				CHECK(m.final, "run %d: %s on %s lost a signal", run,
				    core_event_name(e), phase_name(m.phase));
				break;
			}
		}
	}
}

static void
out_of_range(void)
{
	CHECK(core_action(PHASE_COUNT, CE_TIMER) == CA_NONE, "phase out of range acts");
	CHECK(core_action(PHASE_RUNNING, CE_COUNT) == CA_NONE, "event out of range acts");
	CHECK(strcmp(phase_name(PHASE_COUNT), "?") == 0, "name of no phase");
	for (int p = 0; p < PHASE_COUNT; p++)
		CHECK(strcmp(phase_name(p), "?") != 0, "phase %d has no name", p);
	for (int e = 0; e < CE_COUNT; e++)
		CHECK(strcmp(core_event_name(e), "?") != 0, "event %d has no name", e);
	for (int a = 0; a < CA_COUNT; a++)
		CHECK(strcmp(core_action_name(a), "?") != 0, "action %d has no name", a);
}

int
main(void)
{
	whole_table();
	promises();
	final_signal_property();
	out_of_range();
	return unit_report("test_core");
}
