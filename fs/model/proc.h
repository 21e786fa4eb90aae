/* SPDX-License-Identifier: MIT */
/*
 * proc.h - what the daemon learns of its callers from /proc: who a thread is, whether it
 * lives, and whether its pending signals must end a wait. No FUSE here: the model (a
 * semaphore's holders) and the face (interrupts, mutex self-deadlock) both ask.
 */
#ifndef IPCFS_MODEL_PROC_H
#define IPCFS_MODEL_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* proc_identify - the process (thread group) of thread tid, and its command name into comm
 * (len bytes). Returns 0, or -ESRCH when tid has exited or is a zombie (nothing set). */
int proc_identify(pid_t tid, pid_t *tgid, char *comm, size_t len);
/* proc_alive - does thread tid still exist, and not as a zombie? */
bool proc_alive(pid_t tid);
/* proc_signal_ends_wait - must a wait of thread tid end for the signals pending for it? False
 * when the only ones are those whose default action is to ignore them (SIGCHLD, SIGCONT,
 * SIGURG, SIGWINCH): a handler of those runs after the wait, as SA_RESTART would have it.
 * True when tid is gone or /proc cannot tell. */
bool proc_signal_ends_wait(pid_t tid);

#endif /* IPCFS_MODEL_PROC_H */
