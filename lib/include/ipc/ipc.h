/* SPDX-License-Identifier: MIT */
/* ipc/ipc.h - every libipc primitive. See ipc/common.h for the conventions they share. */
#ifndef IPC_IPC_H
#define IPC_IPC_H

#include "common.h"
#include "mutex.h"
#include "cond.h"
#include "sem.h"
#include "flags.h"
#include "barrier.h"
#include "ring.h"
#include "msgq.h"

#endif /* IPC_IPC_H */
