/* SPDX-License-Identifier: MIT */
/*
 * mq.c - message queues: mq/NAME, messages with boundaries and priorities.
 *
 * Implementation notes:
 * - One write() is one message (bash writes each line of an echo as it comes, so each line is
 *   one message). Messages are kept whole in per-priority FIFO lists; a bitmap of non-empty
 *   priorities finds the highest in one instruction. Each message is allocated at its own size
 *   and charged against -o max_memory, so an idle queue costs nothing.
 * - Priorities from the shell: the name `q@N` (0 <= N < MQ_PRIOS) is an alias of queue `q`
 *   whose writes are sent with priority N (ns.c resolves it; the handle carries the priority).
 * - Reading: an open file receives one message at a time. Its first read takes the next
 *   message (waiting while the queue is empty) and returns what fits; later reads return the
 *   rest; then one read returns 0 (end of that message), and the read after that takes the
 *   next message. The message being read belongs to the open file (handle->state), so it is
 *   dequeued only by a read that returns its bytes: an interrupted read takes nothing. Closing
 *   with part of a message unread drops the rest.
 * - Senders park while the queue is full, with a copy of their message, and are served in
 *   order; receivers park while it is empty and are served in order; a send hands its message
 *   straight to a waiting receiver.
 *
 * Locking: node->lock protects struct mq_obj, the messages and the queues, and the read state
 * of the handles.
 */
#include "ipcfs.h"
#include "park.h"
#include "inspect/snapshot.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mq_msg {
	struct mq_msg *next; /* in its priority's circular list (the tail points at the head) */
	uint32_t len;	     /* bytes of data */
	uint32_t prio;	     /* 0..MQ_PRIOS-1 */
	char data[];
};

struct mq_obj {
	uint32_t max_msgs;	     /* queue full at this many messages */
	uint32_t msgsize;	     /* largest message in bytes */
	uint32_t count;		     /* messages queued */
	uint32_t nonempty;	     /* bit p: prio[p] is not empty */
	uint64_t bytes;		     /* bytes queued */
	uint32_t per_prio[MQ_PRIOS]; /* messages queued at each priority */
	/* each priority's messages, FIFO, as a circular singly-linked list known by its tail
	 * (one pointer a priority keeps an empty queue small: see docs/benchmarks.md) */
	struct mq_msg *tail[MQ_PRIOS];
	struct list_head readq;	 /* parked receives, FIFO; arg = bytes asked */
	struct list_head writeq; /* parked sends, FIFO; arg = struct mq_msg * */
};

/* Per-open state in handle->state[]: the message being read and how far. */
#define MQ_MSG 0	  /* state[0]: struct mq_msg * being read, or 0 */
#define MQ_OFF 1	  /* state[1]: bytes of it returned; MQ_EOM with no message */
#define MQ_PRIO 2	  /* state[2]: priority of this handle's sends (from the q@N alias) */
#define MQ_EOM UINT64_MAX /* the whole message was returned: the next read returns 0 */

enum mq_kind {
	MQ_RECV,      /* parked read: arg = bytes asked */
	MQ_RECV_DATA, /* claimed read: arg = malloc'd copy of what to return, size = its bytes */
	MQ_SEND,      /* parked write: arg = struct mq_msg *, size = bytes written */
};

static struct mq_obj *mq_of(struct node *n)
{
	return n->obj;
}

static int mq_init_obj(struct node *n)
{
	struct mq_obj *q = mq_of(n);

	q->max_msgs = n->fs->params.mq_max_msgs;
	q->msgsize = n->fs->params.mq_msgsize;
	list_init(&q->readq);
	list_init(&q->writeq);
	return 0;
}

static size_t msg_charge(const struct mq_msg *m)
{
	return sizeof(*m) + m->len;
}

static void msg_free(struct ipcfs *fs, struct mq_msg *m)
{
	if (!m)
		return;
	budget_uncharge(&fs->budget, msg_charge(m));
	free(m);
}

static void enqueue(struct mq_obj *q, struct mq_msg *m)
{
	struct mq_msg **tail = &q->tail[m->prio];

	m->next = *tail ? (*tail)->next : m;
	if (*tail)
		(*tail)->next = m;
	*tail = m;
	q->nonempty |= 1u << m->prio;
	q->per_prio[m->prio]++;
	q->count++;
	q->bytes += m->len;
}

/* Take the oldest message of the highest priority, or NULL. */
static struct mq_msg *dequeue(struct mq_obj *q)
{
	struct mq_msg *m;
	int p;

	if (!q->nonempty)
		return NULL;
	p = 31 - __builtin_clz(q->nonempty);
	m = q->tail[p]->next; /* the head */
	if (m == q->tail[p]) {
		q->tail[p] = NULL;
		q->nonempty &= ~(1u << p);
	} else {
		q->tail[p]->next = m->next;
	}
	m->next = NULL;
	q->per_prio[p]--;
	q->count--;
	q->bytes -= m->len;
	return m;
}

static void mq_destroy(struct node *n)
{
	struct mq_obj *q = mq_of(n);

	struct mq_msg *m;

	while ((m = dequeue(q)) != NULL)
		msg_free(n->fs, m);
}

/*
 * Give handle h up to size bytes of its current message, taking the next one from the queue
 * if it has none. Returns the bytes copied into buf (0: end of message), or -EAGAIN when
 * there is no message to take. node->lock held.
 */
static ssize_t take_bytes(struct mq_obj *q, struct ipcfs *fs, struct handle *h, char *buf,
			  size_t size)
{
	struct mq_msg *m = (struct mq_msg *)(uintptr_t)h->mo.state[MQ_MSG];
	size_t k;

	if (!m && h->mo.state[MQ_OFF] == MQ_EOM) {
		h->mo.state[MQ_OFF] = 0;
		return 0; /* the end of the message just returned */
	}
	if (!m) {
		m = dequeue(q);
		if (!m)
			return -EAGAIN;
		h->mo.state[MQ_MSG] = (uintptr_t)m;
		h->mo.state[MQ_OFF] = 0;
	}
	k = m->len - h->mo.state[MQ_OFF] < size ? m->len - h->mo.state[MQ_OFF] : size;
	memcpy(buf, m->data + h->mo.state[MQ_OFF], k);
	h->mo.state[MQ_OFF] += k;
	if (h->mo.state[MQ_OFF] == m->len) {
		h->mo.state[MQ_MSG] = 0;
		h->mo.state[MQ_OFF] = MQ_EOM;
		msg_free(fs, m);
	}
	return (ssize_t)k;
}

/* Serve parked sends while there is room, then parked receives while there are messages. */
static void mq_serve(struct node *n, struct list_head *done)
{
	struct mq_obj *q = mq_of(n);
	bool moved = true;

	while (moved) {
		moved = false;
		while (!list_empty(&q->writeq) && q->count < q->max_msgs) {
			struct parked *p = list_first_entry(&q->writeq, struct parked, w.link);

			enqueue(q, (struct mq_msg *)(uintptr_t)p->w.arg);
			p->w.arg = 0; /* the queue owns it now */
			park_claim(p, 0, done);
		}
		while (!list_empty(&q->readq) && q->count > 0) {
			struct parked *p = list_first_entry(&q->readq, struct parked, w.link);
			char *buf = malloc(p->w.arg ? p->w.arg : 1);
			ssize_t k;

			if (!buf)
				return; /* it stays parked; the next change retries */
			k = take_bytes(q, n->fs, p->h, buf, p->w.arg);
			p->w.kind = MQ_RECV_DATA;
			p->w.arg = (uintptr_t)buf;
			p->w.size = k > 0 ? (size_t)k : 0;
			park_claim(p, 0, done);
			moved = true;
		}
	}
}

static void mq_unlock_and_finish(struct node *n, struct list_head *done)
{
	LIST_HEAD_DECL(pw);

	mq_serve(n, done);
	poll_collect(n, &pw);
	ipc_mutex_unlock(&n->lock);
	park_finish(done);
	poll_notify(&pw);
}

static int mq_open(fuse_req_t req, struct handle *h, struct fuse_file_info *fi, bool create)
{
	(void)req;
	(void)fi;
	(void)create;
	h->mo.state[MQ_MSG] = 0;
	h->mo.state[MQ_OFF] = 0;
	h->mo.state[MQ_PRIO] = h->mo.prio;
	return 0;
}

static void mq_release(struct handle *h)
{
	struct mq_msg *m;

	ipc_mutex_lock(&h->node->lock);
	m = (struct mq_msg *)(uintptr_t)h->mo.state[MQ_MSG];
	h->mo.state[MQ_MSG] = 0;
	ipc_mutex_unlock(&h->node->lock);
	msg_free(h->node->fs, m); /* the unread rest of a message is dropped */
}

static void mq_read(fuse_req_t req, struct handle *h, size_t size, off_t off, int flags)
{
	struct node *n = h->node;
	struct mq_obj *q = mq_of(n);
	char *buf = malloc(size ? size : 1);
	LIST_HEAD_DECL(done);
	struct parked *p;
	ssize_t k = -EAGAIN;
	int rc = 0;

	(void)off;
	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	ipc_mutex_lock(&n->lock);
	if (n->dead)
		rc = -n->dead_err;
	else if (h->mo.state[MQ_MSG] || h->mo.state[MQ_OFF] == MQ_EOM || list_empty(&q->readq))
		k = take_bytes(q, n->fs, h, buf, size);
	if (rc == 0 && k == -EAGAIN && (flags & O_NONBLOCK))
		rc = -EAGAIN;
	if (rc || k >= 0) {
		mq_unlock_and_finish(n, &done); /* a message left: room for a parked send */
		if (rc)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_buf(req, buf, (size_t)k);
		free(buf);
		return;
	}
	ipc_mutex_unlock(&n->lock);
	free(buf);

	p = park_new(req, h, MQ_RECV, size);
	if (!p) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (!park_arm(p))
		return;
	park_enqueue(p, &q->readq);
	mq_unlock_and_finish(n, &done);
}

static void mq_write(fuse_req_t req, struct handle *h, const char *buf, size_t size, off_t off,
		     int flags)
{
	struct node *n = h->node;
	struct mq_obj *q = mq_of(n);
	LIST_HEAD_DECL(done);
	struct mq_msg *m;
	struct parked *p;
	int rc = 0;

	(void)off;
	if (size == 0) {
		fuse_reply_write(req, 0); /* an empty write sends nothing */
		return;
	}
	if (size > __atomic_load_n(&q->msgsize, __ATOMIC_RELAXED)) {
		fuse_reply_err(req, EMSGSIZE);
		return;
	}
	m = malloc(sizeof(*m) + size);
	if (!m) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	m->len = (uint32_t)size;
	m->prio = (uint32_t)h->mo.state[MQ_PRIO];
	memcpy(m->data, buf, size);
	if (budget_charge(&n->fs->budget, msg_charge(m)) != 0) {
		free(m);
		fuse_reply_err(req, ENOSPC);
		return;
	}

	ipc_mutex_lock(&n->lock);
	if (n->dead) {
		rc = -n->dead_err;
	} else if (size > q->msgsize) {
		rc = -EMSGSIZE; /* the limit changed meanwhile */
	} else if (list_empty(&q->writeq) && q->count < q->max_msgs) {
		enqueue(q, m);
		m = NULL;
		ns_touch(n, true);
		rc = 1;
	} else if (flags & O_NONBLOCK) {
		rc = -EAGAIN;
	}
	if (rc) {
		mq_unlock_and_finish(n, &done); /* a waiting receiver takes it straight away */
		msg_free(n->fs, m);
		if (rc < 0)
			fuse_reply_err(req, -rc);
		else
			fuse_reply_write(req, size);
		return;
	}
	ipc_mutex_unlock(&n->lock);

	p = park_new(req, h, MQ_SEND, (uintptr_t)m);
	if (!p) {
		msg_free(n->fs, m);
		fuse_reply_err(req, ENOMEM);
		return;
	}
	p->w.size = size;
	if (!park_arm(p))
		return;
	park_enqueue(p, &q->writeq);
	mq_unlock_and_finish(n, &done);
}

static void mq_complete(struct parked *p)
{
	struct ipcfs *fs = p->node->fs;

	switch (p->w.kind) {
	case MQ_SEND:
		if (p->rc)
			fuse_reply_err(p->req, -p->rc);
		else
			fuse_reply_write(p->req, p->w.size);
		msg_free(fs, (struct mq_msg *)(uintptr_t)p->w.arg); /* NULL once queued */
		break;
	case MQ_RECV_DATA:
		fuse_reply_buf(p->req, (const char *)(uintptr_t)p->w.arg, p->w.size);
		free((void *)(uintptr_t)p->w.arg);
		break;
	default:
		fuse_reply_err(p->req, -p->rc);
		break;
	}
}

static void mq_requeue(struct node *n, struct list_head *done)
{
	mq_serve(n, done);
}

static void mq_kill(struct node *n, int err)
{
	struct mq_obj *q = mq_of(n);
	LIST_HEAD_DECL(done);

	ipc_mutex_lock(&n->lock);
	n->dead = true;
	n->dead_err = err;
	park_kill_queue(&q->readq, -err, &done);
	park_kill_queue(&q->writeq, -err, &done);
	mq_unlock_and_finish(n, &done);
}

static void mq_poll(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph)
{
	struct pollwait *pw = poll_prepare(ph);
	struct node *n = h->node;
	struct mq_obj *q = mq_of(n);
	unsigned revents = 0;

	ipc_mutex_lock(&n->lock);
	if (n->dead)
		revents = POLLIN | POLLOUT | POLLERR;
	if (h->mo.state[MQ_MSG] || h->mo.state[MQ_OFF] == MQ_EOM ||
	    (q->count > 0 && list_empty(&q->readq)))
		revents |= POLLIN | POLLRDNORM;
	if (q->count < q->max_msgs && list_empty(&q->writeq))
		revents |= POLLOUT | POLLWRNORM;
	poll_arm(h, pw);
	ipc_mutex_unlock(&n->lock);
	fuse_reply_poll(req, revents);
}

static void mq_inspect(struct node *n, struct snapshot *snap, struct snap_obj *o)
{
	struct mq_obj *q = mq_of(n);
	struct parked *p;

	snap_field_add(o, "messages", q->count);
	snap_field_add(o, "bytes", q->bytes);
	snap_field_add(o, "msgsize", q->msgsize);
	snap_field_add(o, "max_msgs", q->max_msgs);
	for (int prio = MQ_PRIOS - 1; prio >= 0; prio--)
		if (q->per_prio[prio]) {
			char key[SNAP_KEY_MAX];

			snprintf(key, sizeof(key), "prio.%d", prio);
			snap_field_add(o, key, q->per_prio[prio]);
		}
	/* units: the bytes a receive asks for, or a send's message */
	list_for_each_entry(p, &q->readq, w.link)
		snap_wait_add(snap, o, p->w.pid, "recv", (uint32_t)p->w.arg, p->w.since);
	list_for_each_entry(p, &q->writeq, w.link)
	{
		const struct mq_msg *m = (const struct mq_msg *)(uintptr_t)p->w.arg;

		snap_wait_add(snap, o, p->w.pid, "send", m->len, p->w.since);
	}
}

static void mq_stat_size(struct node *n, off_t *size, blkcnt_t *blocks)
{
	struct mq_obj *q = mq_of(n);

	*size = q->count;
	*blocks = (blkcnt_t)((q->bytes + 511) / 512);
}

static const char *const mq_xattrs[] = { "msgsize", "max_msgs", NULL };

static int mq_getxattr(struct node *n, const char *name, uint64_t *value)
{
	struct mq_obj *q = mq_of(n);

	ipc_mutex_lock(&n->lock);
	*value = strcmp(name, "msgsize") == 0 ? q->msgsize : q->max_msgs;
	ipc_mutex_unlock(&n->lock);
	return 0;
}

/* New limits apply to later sends; queued messages stay as they are. */
static int mq_setxattr(struct node *n, const char *name, uint64_t value)
{
	struct mq_obj *q = mq_of(n);
	bool msgsize = strcmp(name, "msgsize") == 0;
	LIST_HEAD_DECL(done);

	if (value < 1 || value > (msgsize ? IPCFS_MAX_MQ_MSGSIZE : IPCFS_MAX_MQ_MAX_MSGS))
		return -EINVAL;
	ipc_mutex_lock(&n->lock);
	if (msgsize)
		__atomic_store_n(&q->msgsize, (uint32_t)value, __ATOMIC_RELAXED);
	else
		q->max_msgs = (uint32_t)value;
	ns_touch(n, false);
	mq_unlock_and_finish(n, &done); /* more room: parked sends may go in */
	return 0;
}

const struct objtype mq_type = {
	.xattrs = mq_xattrs,
	.getxattr = mq_getxattr,
	.setxattr = mq_setxattr,
	.name = "mq",
	.obj_size = sizeof(struct mq_obj),
	.init = mq_init_obj,
	.destroy = mq_destroy,
	.kill = mq_kill,
	.open = mq_open,
	.release = mq_release,
	.read = mq_read,
	.write = mq_write,
	.poll = mq_poll,
	.stat_size = mq_stat_size,
	.requeue = mq_requeue,
	.complete = mq_complete,
	.inspect = mq_inspect,
	.direct_io = true,
};
