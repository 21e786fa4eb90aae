/* SPDX-License-Identifier: MIT */
/*
 * poll.c - readiness notification for poll/select/epoll.
 *
 * The kernel gives a poll handle with a poll request when the caller will sleep; the daemon
 * must send a notification on it when the readiness may have changed, after which the kernel
 * polls again. Handles are one-shot: each open file keeps at most one (a newer one replaces
 * the older), so a caller that polls in a loop does not pile them up. Notifications are sent
 * after the node lock is dropped (they write to /dev/fuse), from a list detached from the
 * handles under the lock, so a handle may be closed meanwhile.
 */
#include "ipcfs.h"

#include <poll.h>
#include <stdlib.h>

struct pollwait {
	struct list_head link;	    /* in node->pollers, then in a collected list */
	struct fuse_pollhandle *ph; /* owned */
	struct handle *h;	    /* whose h->pw points here while in node->pollers */
};

struct pollwait *poll_prepare(struct fuse_pollhandle *ph)
{
	struct pollwait *pw;

	if (!ph)
		return NULL;
	pw = malloc(sizeof(*pw));
	if (!pw) {
		/* without memory we cannot wait for the change: wake the poller now so that it
		 * polls again rather than sleeping forever */
		fuse_lowlevel_notify_poll(ph);
		fuse_pollhandle_destroy(ph);
		return NULL;
	}
	pw->ph = ph;
	pw->h = NULL;
	list_init(&pw->link);
	return pw;
}

void poll_arm(struct handle *h, struct pollwait *pw)
{
	struct pollwait *old = h->pw;

	if (!pw)
		return;
	if (old) {
		/* the kernel replaced its handle: the older one will never be waited on */
		list_del(&old->link);
		fuse_pollhandle_destroy(old->ph);
		free(old);
	}
	pw->h = h;
	h->pw = pw;
	list_add_tail(&pw->link, &h->node->pollers);
}

void poll_disarm(struct handle *h, struct list_head *out)
{
	struct pollwait *pw = h->pw;

	if (!pw)
		return;
	h->pw = NULL;
	pw->h = NULL;
	list_del(&pw->link);
	list_add_tail(&pw->link, out);
}

void poll_collect(struct node *n, struct list_head *out)
{
	struct pollwait *pw;

	list_for_each_entry(pw, &n->pollers, link)
	{
		pw->h->pw = NULL;
		pw->h = NULL;
	}
	list_splice_tail(&n->pollers, out);
}

void poll_notify(struct list_head *collected)
{
	struct pollwait *pw, *tmp;

	list_for_each_entry_safe(pw, tmp, collected, link)
	{
		list_del(&pw->link);
		fuse_lowlevel_notify_poll(pw->ph);
		fuse_pollhandle_destroy(pw->ph);
		free(pw);
	}
}

void poll_discard(struct list_head *collected)
{
	struct pollwait *pw, *tmp;

	list_for_each_entry_safe(pw, tmp, collected, link)
	{
		list_del(&pw->link);
		fuse_pollhandle_destroy(pw->ph);
		free(pw);
	}
}

void poll_reply(fuse_req_t req, struct handle *h, struct fuse_pollhandle *ph, unsigned writable,
		bool (*readable)(struct node *n))
{
	struct pollwait *pw = poll_prepare(ph);
	struct node *n = h->node;
	unsigned revents = writable;

	store_begin(&n->so);
	if (n->dead)
		revents |= POLLIN | POLLRDNORM | POLLERR;
	else if (readable(n))
		revents |= POLLIN | POLLRDNORM;
	poll_arm(h, pw);
	store_end(&n->so);
	fuse_reply_poll(req, revents);
}
