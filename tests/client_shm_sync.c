/* SPDX-License-Identifier: MIT */
/*
 * client_shm_sync.c - several processes working together through one shared-memory segment,
 * for the integration tests. Every process opens and maps PATH itself (after fork: its own
 * open file description and its own mapping, as unrelated programs would), so what they share
 * is the segment, not an inherited mapping.
 *
 *   client_shm_sync share PATH ROUNDS
 *     A and B map PATH; A stores a word, B (mapped before) sees it by polling memory, with no
 *     msync and no system call; B stores one back, A sees it; then ROUNDS such round trips.
 *   client_shm_sync count PATH PROCS ITERS lock|nolock
 *     PROCS processes, started together, each add 1 ITERS times to a plain (non-atomic)
 *     counter in the segment, under a process-shared ipc_mutex placed in the segment (lock)
 *     or under nothing (nolock). Prints "count N of M"; with lock, status 1 unless N == M.
 *   client_shm_sync block PATH
 *     The sleeping paths across processes: B blocks in ipc_mutex_timedlock on a mutex A holds
 *     and in ipc_sem_timedwait on an empty semaphore, both in the segment; A checks that B
 *     sleeps in the kernel (futex), then unlocks / posts; B must wake (5 s deadline). Then the
 *     other way round: A waits on a semaphore B posts.
 *   client_shm_sync sem PATH ROUNDS
 *     Ping-pong of two process-shared ipc_sems in the segment, with a plain counter B bumps at
 *     each ping and A checks at each pong.
 *   client_shm_sync writers PATH PROCS RECORDS
 *     PROCS processes pwrite(2) 16-byte records interleaved in the same pages (record k of
 *     writer i at (k * PROCS + i) * 16); then every record is checked through the page cache
 *     and through O_DIRECT (what the daemon holds).
 *
 * PATH is created (mode 0600) and sized by the first process. Exit status 0 if every check
 * held, 1 otherwise, 2 on misuse. Everything is bounded in time (SIGALRM after 30 s).
 */
#include <ipc/mutex.h>
#include <ipc/sem.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SEG_SIZE 4096

/* The segment's layout. Only 32- and 64-bit words, no pointers: it is shared memory. */
struct seg {
	struct ipc_mutex lock;
	struct ipc_sem ping, pong;
	uint32_t ready;	   /* processes mapped and waiting for go */
	uint32_t go;	   /* set once: start together */
	uint32_t a, b;	   /* the words of `share` */
	uint64_t counter;  /* count: under lock (or not); sem: bumped by B at each ping */
	uint32_t asleep;   /* block: B is about to block */
	uint32_t failures; /* checks that failed in children */
};

static long long now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Open and map PATH; create and size it when create. Exits on failure. */
static struct seg *seg_map(const char *path, bool create)
{
	int fd = open(path, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0600);
	void *p;

	if (fd < 0) {
		perror(path);
		exit(1);
	}
	if (create && ftruncate(fd, SEG_SIZE) != 0) {
		perror("ftruncate");
		exit(1);
	}
	p = mmap(NULL, SEG_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(1);
	}
	close(fd); /* the mapping keeps the segment */
	return p;
}

/* Spin until *w == v (a plain memory poll, no system call) or us microseconds pass. */
static bool spin_until(volatile uint32_t *w, uint32_t v, long long us)
{
	long long deadline = now_us() + us;

	for (unsigned long i = 0;; i++) {
		if (__atomic_load_n(w, __ATOMIC_ACQUIRE) == v)
			return true;
		if (i % 1024 == 0 && now_us() > deadline)
			return false;
	}
}

/* Wait for every child; true if all exited with status 0. */
static bool reap(pid_t *pids, int n)
{
	bool ok = true;

	for (int i = 0; i < n; i++) {
		int st;

		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			ok = false;
	}
	return ok;
}

static int do_share(const char *path, int rounds)
{
	struct seg *s = seg_map(path, true);
	long long t0;
	pid_t pid;
	int ok;

	pid = fork();
	if (pid == 0) {
		struct seg *m = seg_map(path, false);

		__atomic_store_n(&m->ready, 1, __ATOMIC_RELEASE);
		if (!spin_until(&m->a, 1, 2000000)) {
			printf("share: B never saw A's store\n");
			_exit(1);
		}
		__atomic_store_n(&m->b, 1, __ATOMIC_RELEASE);
		for (int r = 1; r <= rounds; r++) {
			if (!spin_until(&m->a, 1 + 2 * (uint32_t)r, 2000000))
				_exit(1);
			__atomic_store_n(&m->b, 1 + 2 * (uint32_t)r, __ATOMIC_RELEASE);
		}
		_exit(0);
	}
	if (!spin_until(&s->ready, 1, 5000000)) {
		printf("share: B did not map\n");
		kill(pid, SIGKILL);
		reap(&pid, 1);
		return 1;
	}
	t0 = now_us();
	__atomic_store_n(&s->a, 1, __ATOMIC_RELEASE);
	if (!spin_until(&s->b, 1, 2000000)) {
		printf("share: A never saw B's store\n");
		kill(pid, SIGKILL);
		reap(&pid, 1);
		return 1;
	}
	printf("share: first round trip %lld us\n", now_us() - t0);
	t0 = now_us();
	for (int r = 1; r <= rounds; r++) {
		__atomic_store_n(&s->a, 1 + 2 * (uint32_t)r, __ATOMIC_RELEASE);
		if (!spin_until(&s->b, 1 + 2 * (uint32_t)r, 2000000)) {
			printf("share: round %d lost\n", r);
			kill(pid, SIGKILL);
			reap(&pid, 1);
			return 1;
		}
	}
	ok = reap(&pid, 1);
	printf("share %s: %d round trips through memory, %.2f us each\n", ok ? "ok" : "FAILED",
	       rounds, rounds ? (double)(now_us() - t0) / rounds : 0.0);
	return ok ? 0 : 1;
}

static int do_count(const char *path, int procs, long iters, bool lock)
{
	struct seg *s = seg_map(path, true);
	pid_t pids[64];
	uint64_t want = (uint64_t)procs * (uint64_t)iters;
	long long t0;
	bool ok;

	if (procs < 1 || procs > 64 || iters < 1)
		return 2;
	ipc_mutex_init(&s->lock, IPC_SHARED);
	for (int i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			struct seg *m = seg_map(path, false);
			volatile uint64_t *c = &m->counter;

			__atomic_add_fetch(&m->ready, 1, __ATOMIC_ACQ_REL);
			if (!spin_until(&m->go, 1, 5000000))
				_exit(1);
			for (long k = 0; k < iters; k++) {
				if (lock)
					ipc_mutex_lock(&m->lock);
				*c = *c + 1; /* a load and a store: only the mutex makes it safe */
				if (lock)
					ipc_mutex_unlock(&m->lock);
			}
			_exit(0);
		}
	}
	ok = spin_until(&s->ready, (uint32_t)procs, 5000000);
	t0 = now_us();
	__atomic_store_n(&s->go, 1, __ATOMIC_RELEASE);
	ok = reap(pids, procs) && ok;
	printf("count %llu of %llu (%s, %d processes, %.0f ms)\n", (unsigned long long)s->counter,
	       (unsigned long long)want, lock ? "lock" : "nolock", procs,
	       (double)(now_us() - t0) / 1000);
	if (!ok)
		printf("count: a child failed\n");
	return ok && (!lock || s->counter == want) ? 0 : 1;
}

/* The wait channel of pid, e.g. "futex_wait_queue" while it sleeps on a futex. */
static void wchan(pid_t pid, char *buf, size_t len)
{
	char p[64];
	FILE *f;

	snprintf(p, sizeof(p), "/proc/%d/wchan", (int)pid);
	buf[0] = '\0';
	f = fopen(p, "r");
	if (f) {
		if (!fgets(buf, (int)len, f))
			buf[0] = '\0';
		fclose(f);
	}
}

/* Wait (bounded) until pid sleeps on a futex; print what it sleeps on. */
static bool sleeps_on_futex(pid_t pid, const char *what)
{
	char w[128] = "";

	for (int i = 0; i < 500; i++) {
		wchan(pid, w, sizeof(w));
		if (strstr(w, "futex"))
			return true;
		usleep(2000);
	}
	printf("block: B is not asleep on a futex in %s (wchan '%s')\n", what, w);
	return false;
}

static int do_block(const char *path)
{
	struct seg *s = seg_map(path, true);
	struct timespec dl;
	bool ok = true;
	pid_t pid;

	ipc_mutex_init(&s->lock, IPC_SHARED);
	ipc_sem_init(&s->ping, 0, IPC_SHARED);
	ipc_sem_init(&s->pong, 0, IPC_SHARED);
	ipc_mutex_lock(&s->lock);
	pid = fork();
	if (pid == 0) {
		struct seg *m = seg_map(path, false);
		long long t0 = now_us();
		int rc;

		dl = ipc_deadline_in(5000000000LL);
		rc = ipc_mutex_timedlock(&m->lock, &dl);
		printf("block: B took the mutex after %lld ms: %s\n", (now_us() - t0) / 1000,
		       rc ? strerrorname_np(-rc) : "ok");
		if (rc)
			_exit(1);
		ipc_mutex_unlock(&m->lock);
		t0 = now_us();
		dl = ipc_deadline_in(5000000000LL);
		rc = ipc_sem_timedwait(&m->ping, &dl);
		printf("block: B got the post after %lld ms: %s\n", (now_us() - t0) / 1000,
		       rc ? strerrorname_np(-rc) : "ok");
		if (rc)
			_exit(1);
		usleep(100000); /* A is asleep on pong by now */
		ipc_sem_post(&m->pong, 1);
		_exit(0);
	}
	ok = sleeps_on_futex(pid, "ipc_mutex_timedlock") && ok;
	usleep(50000);
	ipc_mutex_unlock(&s->lock);
	ok = sleeps_on_futex(pid, "ipc_sem_timedwait") && ok;
	usleep(50000);
	ipc_sem_post(&s->ping, 1);
	dl = ipc_deadline_in(5000000000LL);
	if (ipc_sem_timedwait(&s->pong, &dl) != 0) {
		printf("block: A never got B's post\n");
		ok = false;
	}
	ok = reap(&pid, 1) && ok;
	printf("block %s\n", ok ? "ok" : "FAILED");
	return ok ? 0 : 1;
}

static int do_sem(const char *path, int rounds)
{
	struct seg *s = seg_map(path, true);
	long long t0;
	bool ok = true;
	pid_t pid;

	ipc_sem_init(&s->ping, 0, IPC_SHARED);
	ipc_sem_init(&s->pong, 0, IPC_SHARED);
	pid = fork();
	if (pid == 0) {
		struct seg *m = seg_map(path, false);

		for (int r = 0; r < rounds; r++) {
			struct timespec dl = ipc_deadline_in(5000000000LL);

			if (ipc_sem_timedwait(&m->ping, &dl) != 0)
				_exit(1);
			m->counter++; /* published by the post */
			ipc_sem_post(&m->pong, 1);
		}
		_exit(0);
	}
	t0 = now_us();
	for (int r = 1; ok && r <= rounds; r++) {
		struct timespec dl = ipc_deadline_in(5000000000LL);

		ipc_sem_post(&s->ping, 1);
		if (ipc_sem_timedwait(&s->pong, &dl) != 0) {
			printf("sem: round %d: no pong\n", r);
			ok = false;
		} else if (s->counter != (uint64_t)r) {
			printf("sem: round %d: counter %llu\n", r, (unsigned long long)s->counter);
			ok = false;
		}
	}
	if (!ok)
		kill(pid, SIGKILL);
	ok = reap(&pid, 1) && ok;
	printf("sem %s: %d round trips, %.1f us each\n", ok ? "ok" : "FAILED", rounds,
	       rounds ? (double)(now_us() - t0) / rounds : 0.0);
	return ok ? 0 : 1;
}

static void record(char *buf, int writer, int k)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "w%d:%07d.......", writer, k);
	memcpy(buf, tmp, 15);
	buf[15] = '\n';
}

/* Check every record through fd; print the first bad one. */
static bool check_records(int fd, int procs, int records, const char *how)
{
	size_t len = (size_t)procs * (size_t)records * 16;
	char *buf = aligned_alloc(4096, (len + 4095) / 4096 * 4096);
	ssize_t r;
	bool ok = true;

	if (!buf)
		return false;
	r = pread(fd, buf, (len + 4095) / 4096 * 4096, 0);
	if (r != (ssize_t)len) {
		printf("writers: %s read %zd bytes of %zu\n", how, r, len);
		ok = false;
	}
	for (int k = 0; ok && k < records; k++) {
		for (int i = 0; ok && i < procs; i++) {
			char want[16];

			record(want, i, k);
			if (memcmp(buf + ((size_t)k * procs + i) * 16, want, 16) != 0) {
				printf("writers: %s: record %d of writer %d is '%.15s'\n", how, k,
				       i, buf + ((size_t)k * procs + i) * 16);
				ok = false;
			}
		}
	}
	free(buf);
	return ok;
}

static int do_writers(const char *path, int procs, int records)
{
	pid_t pids[64];
	int fd;
	bool ok;

	if (procs < 1 || procs > 64 || records < 1)
		return 2;
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0) {
		perror(path);
		return 1;
	}
	for (int i = 0; i < procs; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			int wfd = open(path, O_WRONLY);

			for (int k = 0; wfd >= 0 && k < records; k++) {
				char rec[16];

				record(rec, i, k);
				if (pwrite(wfd, rec, 16, ((off_t)k * procs + i) * 16) != 16)
					_exit(1);
			}
			_exit(wfd >= 0 ? 0 : 1);
		}
	}
	ok = reap(pids, procs);
	if (!ok)
		printf("writers: a writer failed\n");
	ok = check_records(fd, procs, records, "cached") && ok;
	close(fd);
	fd = open(path, O_RDONLY | O_DIRECT);
	ok = fd >= 0 && check_records(fd, procs, records, "O_DIRECT") && ok;
	if (fd >= 0)
		close(fd);
	printf("writers %s: %d x %d records\n", ok ? "ok" : "FAILED", procs, records);
	return ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	alarm(30);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "share") == 0)
		return do_share(argv[2], atoi(argv[3]));
	if (argc == 6 && strcmp(argv[1], "count") == 0)
		return do_count(argv[2], atoi(argv[3]), atol(argv[4]),
				strcmp(argv[5], "lock") == 0);
	if (argc == 3 && strcmp(argv[1], "block") == 0)
		return do_block(argv[2]);
	if (argc == 4 && strcmp(argv[1], "sem") == 0)
		return do_sem(argv[2], atoi(argv[3]));
	if (argc == 5 && strcmp(argv[1], "writers") == 0)
		return do_writers(argv[2], atoi(argv[3]), atoi(argv[4]));
	fprintf(stderr, "usage: %s share|count|block|sem|writers PATH ... (see the source)\n",
		argv[0]);
	return 2;
}
