/* SPDX-License-Identifier: MIT */
/*
 * client_hammer.c - races between interrupts and completions, with exact bookkeeping, for the
 * integration tests. Every interrupt here is a handled signal (no SA_RESTART), so each blocked
 * call tells exactly whether it took effect (0) or not (EINTR); a fatal signal could not tell.
 *
 *   client_hammer sem PATH SECONDS WORKERS
 *     WORKERS threads, each on its own open file description, loop on P(1) (read) and, one
 *     time in eight, P(2) (write "-2"); a killer thread sends SIGUSR1 to a random worker every
 *     0-1 ms, and to all of them at once just as half of the posts go out; the main thread
 *     posts 1-WORKERS units every 0-1.5 ms. At the end every worker is interrupted out of its
 *     last wait, and the count must be exactly initial + posted - taken.
 *
 *   client_hammer mutex PATH SECONDS PROCS [kill]
 *     PROCS processes loop on open (with SIGALRM 0-3 ms later), hold 0-300 us, close. With
 *     "kill", the parent also SIGKILLs a random child every 2-20 ms (waiting or holding) and
 *     starts another. No two live holders may overlap, and at the end the mutex is free.
 *
 * Prints one line of counts; exit status 0 if every check held, 1 otherwise, 2 on misuse.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* In a sanitizer build, no leak check at exit: it stops the world with ptrace, and a signal
 * arriving meanwhile (these clients are signalled on purpose) can hang it for good. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "detect_leaks=0";
}

static void on_signal(int sig)
{
	(void)sig;
}

static void handle(int sig)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: a blocked call returns EINTR */
	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- semaphores ---- */

struct sem_worker {
	pthread_t thread;
	int fd;
	bool done; /* atomic */
	unsigned seed;
};

static bool sem_stop;	/* atomic */
static long sem_taken;	/* atomic */
static long sem_intr;	/* atomic */
static long sem_errors; /* atomic */

static void *sem_worker_main(void *arg)
{
	struct sem_worker *w = arg;
	char c;

	while (!__atomic_load_n(&sem_stop, __ATOMIC_ACQUIRE)) {
		bool two = rand_r(&w->seed) % 8 == 0;
		ssize_t n = two ? write(w->fd, "-2", 2) : read(w->fd, &c, 1);

		if (n >= 0)
			__atomic_add_fetch(&sem_taken, two ? 2 : 1, __ATOMIC_RELAXED);
		else if (errno == EINTR)
			__atomic_add_fetch(&sem_intr, 1, __ATOMIC_RELAXED);
		else if (__atomic_add_fetch(&sem_errors, 1, __ATOMIC_RELAXED) < 5)
			fprintf(stderr, "client_hammer: %s: %s\n", two ? "write" : "read",
				strerror(errno));
	}
	__atomic_store_n(&w->done, true, __ATOMIC_RELEASE);
	return NULL;
}

/*
 * The killer: interrupts a random worker every 0-1 ms and, when the poster writes a byte to
 * the burst pipe just before a V, every worker at once, so that interrupts reach the daemon
 * while that V is being served (the window where a completion has claimed a waiter but not yet
 * answered it). Runs until every worker has finished.
 */
struct sem_killer {
	struct sem_worker *w;
	int nworkers;
	int burst_fd; /* read end of the burst pipe */
	long long kicks;
};

static void sem_kick_all(struct sem_killer *k)
{
	for (int i = 0; i < k->nworkers; i++)
		if (!__atomic_load_n(&k->w[i].done, __ATOMIC_ACQUIRE)) {
			pthread_kill(k->w[i].thread, SIGUSR1);
			k->kicks++;
		}
}

static void *sem_killer_main(void *arg)
{
	struct sem_killer *k = arg;
	unsigned seed = (unsigned)getpid() * 7;

	for (;;) {
		struct pollfd pfd = { .fd = k->burst_fd, .events = POLLIN };
		int live = 0;
		char c;

		for (int i = 0; i < k->nworkers; i++)
			live += !__atomic_load_n(&k->w[i].done, __ATOMIC_ACQUIRE);
		if (!live)
			return NULL;
		if (__atomic_load_n(&sem_stop, __ATOMIC_ACQUIRE)) {
			/* the end: interrupt every worker out of its last wait */
			sem_kick_all(k);
			sleep_us(1000);
		} else if (poll(&pfd, 1, (int)(rand_r(&seed) % 2)) > 0 &&
			   read(k->burst_fd, &c, 1) == 1) {
			sem_kick_all(k);
		} else {
			pthread_kill(k->w[rand_r(&seed) % k->nworkers].thread, SIGUSR1);
			k->kicks++;
		}
	}
}

static int hammer_sem(const char *path, int seconds, int nworkers)
{
	struct sem_worker *w = calloc((size_t)nworkers, sizeof(*w));
	struct sem_killer k = { w, nworkers, -1, 0 };
	long long end = now_ms() + seconds * 1000LL, posted = 0, bursts = 0;
	long initial, final;
	unsigned seed = (unsigned)getpid();
	pthread_t killer;
	int pfd, burst[2];
	struct stat st;

	if (!w || pipe(burst) != 0)
		return 2;
	k.burst_fd = burst[0];
	handle(SIGUSR1);
	pfd = open(path, O_RDWR);
	if (pfd < 0 || fstat(pfd, &st) != 0) {
		perror("client_hammer: open");
		return 2;
	}
	initial = (long)st.st_size;
	for (int i = 0; i < nworkers; i++) {
		w[i].seed = seed + (unsigned)i;
		w[i].fd = open(path, O_RDWR);
		if (w[i].fd < 0 || pthread_create(&w[i].thread, NULL, sem_worker_main, &w[i])) {
			perror("client_hammer: worker");
			return 2;
		}
	}
	if (pthread_create(&killer, NULL, sem_killer_main, &k))
		return 2;
	while (now_ms() < end) {
		int units = 1 + (int)(rand_r(&seed) % (unsigned)nworkers);
		char text[16];
		int len = snprintf(text, sizeof(text), "%d", units);

		if (rand_r(&seed) % 2 && write(burst[1], "b", 1) == 1)
			bursts++;
		if (write(pfd, text, (size_t)len) == len)
			posted += units;
		else
			perror("client_hammer: post");
		sleep_us(rand_r(&seed) % 1500);
	}
	__atomic_store_n(&sem_stop, true, __ATOMIC_RELEASE);
	pthread_join(killer, NULL);
	for (int i = 0; i < nworkers; i++) {
		pthread_join(w[i].thread, NULL);
		close(w[i].fd);
	}
	if (fstat(pfd, &st) != 0)
		return 2;
	final = (long)st.st_size;
	close(pfd);
	close(burst[0]);
	close(burst[1]);
	free(w);
	printf("initial %ld posted %lld taken %ld interrupted %ld errors %ld signals %lld bursts "
	       "%lld final %ld\n",
	       initial, posted, sem_taken, sem_intr, sem_errors, k.kicks, bursts, final);
	if (final != initial + posted - sem_taken) {
		printf("count %ld, expected %lld\n", final, initial + posted - sem_taken);
		return 1;
	}
	return sem_errors || !sem_taken || !sem_intr ? 1 : 0;
}

/* ---- mutexes ---- */

#define MAX_PROCS 64

struct mutex_shared {
	bool stop;
	long acquired, intr, errors, overlaps, kills;
	struct {
		pid_t pid;
		bool holding; /* acquired and not yet released */
		bool doomed;  /* the parent is about to SIGKILL it: its hold may be cut short */
	} slot[MAX_PROCS];
};

static void mutex_child(struct mutex_shared *sh, int me, int nprocs, const char *path)
{
	unsigned seed = (unsigned)getpid();

	handle(SIGALRM);
	while (!__atomic_load_n(&sh->stop, __ATOMIC_SEQ_CST)) {
		struct itimerval it = { { 0, 0 }, { 0, 1 + rand_r(&seed) % 3000 } };
		struct itimerval off = { { 0, 0 }, { 0, 0 } };
		int fd;

		setitimer(ITIMER_REAL, &it, NULL);
		fd = open(path, O_RDONLY);
		setitimer(ITIMER_REAL, &off, NULL);
		if (fd < 0) {
			if (errno == EINTR)
				__atomic_add_fetch(&sh->intr, 1, __ATOMIC_RELAXED);
			else if (__atomic_add_fetch(&sh->errors, 1, __ATOMIC_RELAXED) < 5)
				fprintf(stderr, "client_hammer: open: %s\n", strerror(errno));
			continue;
		}
		__atomic_add_fetch(&sh->acquired, 1, __ATOMIC_RELAXED);
		__atomic_store_n(&sh->slot[me].holding, true, __ATOMIC_SEQ_CST);
		for (int j = 0; j < nprocs; j++)
			if (j != me && __atomic_load_n(&sh->slot[j].holding, __ATOMIC_SEQ_CST) &&
			    !__atomic_load_n(&sh->slot[j].doomed, __ATOMIC_SEQ_CST))
				__atomic_add_fetch(&sh->overlaps, 1, __ATOMIC_RELAXED);
		sleep_us(rand_r(&seed) % 300);
		__atomic_store_n(&sh->slot[me].holding, false, __ATOMIC_SEQ_CST);
		close(fd);
	}
	_exit(0);
}

static pid_t mutex_spawn(struct mutex_shared *sh, int i, int nprocs, const char *path)
{
	pid_t pid;

	sh->slot[i].holding = false;
	sh->slot[i].doomed = false;
	pid = fork();
	if (pid == 0)
		mutex_child(sh, i, nprocs, path);
	sh->slot[i].pid = pid;
	return pid;
}

static int hammer_mutex(const char *path, int seconds, int nprocs, bool kill_some)
{
	struct mutex_shared *sh =
		mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	long long end = now_ms() + seconds * 1000LL, give_up;
	unsigned seed = (unsigned)getpid();
	int fd = -1, status, hung = 0;
	bool free_at_end = false;

	if (sh == MAP_FAILED || nprocs < 1 || nprocs > MAX_PROCS)
		return 2;
	for (int i = 0; i < nprocs; i++)
		if (mutex_spawn(sh, i, nprocs, path) < 0)
			return 2;
	while (now_ms() < end) {
		int i;

		sleep_us(2000 + rand_r(&seed) % 18000);
		if (!kill_some)
			continue;
		i = rand_r(&seed) % nprocs;
		__atomic_store_n(&sh->slot[i].doomed, true, __ATOMIC_SEQ_CST);
		kill(sh->slot[i].pid, SIGKILL);
		waitpid(sh->slot[i].pid, &status, 0);
		sh->kills++;
		mutex_spawn(sh, i, nprocs, path);
	}
	__atomic_store_n(&sh->stop, true, __ATOMIC_SEQ_CST);
	give_up = now_ms() + 10000;
	for (int i = 0; i < nprocs; i++) {
		while (waitpid(sh->slot[i].pid, &status, WNOHANG) == 0) {
			if (now_ms() > give_up) {
				kill(sh->slot[i].pid, SIGKILL);
				waitpid(sh->slot[i].pid, &status, 0);
				hung++;
				break;
			}
			sleep_us(1000);
		}
	}
	/* nobody holds it now: a non-blocking open must succeed once the last close's
	 * (asynchronous) release has arrived */
	for (give_up = now_ms() + 2000; now_ms() < give_up; sleep_us(5000)) {
		fd = open(path, O_RDONLY | O_NONBLOCK);
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	if (fd >= 0) {
		free_at_end = true;
		close(fd);
	}
	printf("acquired %ld interrupted %ld errors %ld overlaps %ld kills %ld hung %d free %s\n",
	       sh->acquired, sh->intr, sh->errors, sh->overlaps, sh->kills, hung,
	       free_at_end ? "yes" : "no");
	if (sh->errors || sh->overlaps || hung || !free_at_end)
		return 1;
	return sh->acquired && sh->intr ? 0 : 1; /* both must have happened to prove anything */
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 5 && strcmp(argv[1], "sem") == 0)
		return hammer_sem(argv[2], atoi(argv[3]), atoi(argv[4]));
	if (argc >= 5 && strcmp(argv[1], "mutex") == 0)
		return hammer_mutex(argv[2], atoi(argv[3]), atoi(argv[4]),
				    argc > 5 && strcmp(argv[5], "kill") == 0);
	fprintf(stderr, "usage: client_hammer sem PATH SECONDS WORKERS\n"
			"       client_hammer mutex PATH SECONDS PROCS [kill]\n");
	return 2;
}
