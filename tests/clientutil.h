/* SPDX-License-Identifier: MIT */
/*
 * clientutil.h - signal handling shared by the test clients (tests/client_*.c) that are told
 * on their command line which signals to handle, and that must start from a clean slate
 * whatever the shell that started them ignored or blocked.
 */
#ifndef IPC_CLIENTUTIL_H
#define IPC_CLIENTUTIL_H

#include <signal.h>
#include <stdlib.h>
#include <string.h>

/* A handled signal came (set by on_signal): a client told to stop on a failure stops, rather
 * than block in its next call with the signal already spent. */
static volatile sig_atomic_t signalled;

static void on_signal(int sig)
{
	(void)sig; /* there to make a blocked call return EINTR */
	signalled = 1;
}

/* "USR1", "SIGUSR1" or a number: the signal, or -1. */
static int signal_number(const char *s)
{
	static const struct {
		const char *name;
		int sig;
	} names[] = { { "INT", SIGINT },   { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
		      { "USR2", SIGUSR2 }, { "ALRM", SIGALRM }, { "HUP", SIGHUP },
		      { "QUIT", SIGQUIT } };
	char *end;
	long v;

	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].sig;
	v = strtol(s, &end, 10);
	return *s && !*end && v > 0 && v < NSIG ? (int)v : -1;
}

/* Handle sig with on_signal, without SA_RESTART: a blocked call then returns EINTR. */
static void handle(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

/* Every signal to its default action and unblocked (a background job of a non-interactive
 * shell starts with SIGINT ignored, for one). */
static void default_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			signal(sig, SIG_DFL); /* fails harmlessly for the reserved ones */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

#endif /* IPC_CLIENTUTIL_H */
