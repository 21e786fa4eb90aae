/* SPDX-License-Identifier: MIT */
/*
 * bench_lib.c - libipc's primitives against glibc's, measured in the same run.
 *
 * Not a test: it prints medians (ns per operation) and the ratio ours/glibc as a Markdown
 * table for docs/benchmarks.md. Each figure is the median of REPEATS runs, so one noisy run on
 * a shared machine does not decide it. Uncontended figures are measured with a second thread
 * alive (but idle), because glibc takes cheaper paths in a single-threaded process.
 */
#include <ipc/mutex.h>
#include <ipc/sem.h>

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REPEATS 7
#define UNCONTENDED_OPS 5000000
#define PINGPONG_ROUNDS 50000

static int ncpus = 1;

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median over REPEATS of fn(arg), each returning ns per operation. */
static double median(double (*fn)(void *), void *arg)
{
	double v[REPEATS];

	for (int i = 0; i < REPEATS; i++)
		v[i] = fn(arg);
	qsort(v, REPEATS, sizeof(v[0]), cmp_double);
	return v[REPEATS / 2];
}

static double ipc_mutex_uncontended(void *arg)
{
	struct ipc_mutex *m = arg;
	int64_t t0 = now_ns();

	for (int i = 0; i < UNCONTENDED_OPS; i++) {
		ipc_mutex_lock(m);
		ipc_mutex_unlock(m);
	}
	return (double)(now_ns() - t0) / UNCONTENDED_OPS;
}

static double glibc_mutex_uncontended(void *arg)
{
	pthread_mutex_t *m = arg;
	int64_t t0 = now_ns();

	for (int i = 0; i < UNCONTENDED_OPS; i++) {
		pthread_mutex_lock(m);
		pthread_mutex_unlock(m);
	}
	return (double)(now_ns() - t0) / UNCONTENDED_OPS;
}

static double ipc_sem_uncontended(void *arg)
{
	struct ipc_sem *s = arg;
	int64_t t0 = now_ns();

	for (int i = 0; i < UNCONTENDED_OPS; i++) {
		ipc_sem_post(s, 1);
		ipc_sem_wait(s);
	}
	return (double)(now_ns() - t0) / UNCONTENDED_OPS;
}

static double glibc_sem_uncontended(void *arg)
{
	sem_t *s = arg;
	int64_t t0 = now_ns();

	for (int i = 0; i < UNCONTENDED_OPS; i++) {
		sem_post(s);
		sem_wait(s);
	}
	return (double)(now_ns() - t0) / UNCONTENDED_OPS;
}

/* Two processes bounce a token through two process-shared semaphores. */
struct pingpong {
	struct ipc_sem ipc[2];
	sem_t glibc[2];
};

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	for (int i = 0; i < ncpus; i++)
		if (cpu < 0 || i == cpu % ncpus)
			CPU_SET(i, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static double pingpong(struct pingpong *pp, int use_glibc, int same_cpu)
{
	int64_t t0;
	pid_t pid;

	pin(0);
	pid = fork();

	if (pid < 0) {
		perror("fork");
		exit(1);
	}
	if (pid == 0) {
		pin(same_cpu ? 0 : 1);
		for (int i = 0; i < PINGPONG_ROUNDS; i++) {
			if (use_glibc) {
				sem_wait(&pp->glibc[0]);
				sem_post(&pp->glibc[1]);
			} else {
				ipc_sem_wait(&pp->ipc[0]);
				ipc_sem_post(&pp->ipc[1], 1);
			}
		}
		_exit(0);
	}
	t0 = now_ns();
	for (int i = 0; i < PINGPONG_ROUNDS; i++) {
		if (use_glibc) {
			sem_post(&pp->glibc[0]);
			sem_wait(&pp->glibc[1]);
		} else {
			ipc_sem_post(&pp->ipc[0], 1);
			ipc_sem_wait(&pp->ipc[1]);
		}
	}
	t0 = now_ns() - t0;
	waitpid(pid, NULL, 0);
	return (double)t0 / PINGPONG_ROUNDS;
}

/* Ours and glibc's alternate within each repeat, so both meet the same machine noise. */
static void pingpong_pair(struct pingpong *pp, int same_cpu, double *ours, double *theirs)
{
	double a[REPEATS], b[REPEATS];

	for (int i = 0; i < REPEATS; i++) {
		a[i] = pingpong(pp, 0, same_cpu);
		b[i] = pingpong(pp, 1, same_cpu);
	}
	qsort(a, REPEATS, sizeof(a[0]), cmp_double);
	qsort(b, REPEATS, sizeof(b[0]), cmp_double);
	*ours = a[REPEATS / 2];
	*theirs = b[REPEATS / 2];
	pin(-1);
}

static void *idle_thread(void *arg)
{
	(void)arg;
	pause();
	return NULL;
}

static void row(const char *what, double ours, double theirs, const char *target)
{
	printf("| %-44s | %10.1f | %10.1f | %5.2f | %-12s |\n", what, ours, theirs, ours / theirs,
	       target);
}

int main(void)
{
	struct ipc_mutex im = IPC_MUTEX_INITIALIZER(0);
	pthread_mutex_t gm = PTHREAD_MUTEX_INITIALIZER;
	struct ipc_sem is = IPC_SEM_INITIALIZER(0, 0);
	struct pingpong *pp;
	pthread_t idle;
	sem_t gs;

	pp = mmap(NULL, sizeof(*pp), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (pp == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	for (int i = 0; i < 2; i++) {
		ipc_sem_init(&pp->ipc[i], 0, IPC_SHARED);
		sem_init(&pp->glibc[i], 1, 0);
	}
	sem_init(&gs, 0, 0);

	/* Ping-pong first, while the process is single-threaded: fork and threads mix badly. */
	double ipp1, gpp1, ipp2 = 0, gpp2 = 1;

	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	pingpong_pair(pp, 1, &ipp1, &gpp1);
	if (ncpus > 1)
		pingpong_pair(pp, 0, &ipp2, &gpp2);

	pthread_create(&idle, NULL, idle_thread, NULL);
	double imu = median(ipc_mutex_uncontended, &im);
	double gmu = median(glibc_mutex_uncontended, &gm);
	double isu = median(ipc_sem_uncontended, &is);
	double gsu = median(glibc_sem_uncontended, &gs);

	printf("libipc vs glibc, median of %d runs, ns per operation (lower is better)\n\n",
	       REPEATS);
	printf("| %-44s | %10s | %10s | %5s | %-12s |\n", "operation", "libipc", "glibc", "ratio",
	       "target");
	printf("|%s|%s|%s|%s|%s|\n", "----------------------------------------------",
	       "-----------:", "-----------:", "------:", "--------------");
	row("mutex lock+unlock, uncontended", imu, gmu, "<= 1.10");
	row("semaphore post+wait, uncontended", isu, gsu, "<= 1.10");
	row("semaphore ping-pong, 2 processes, same CPU", ipp1, gpp1, "<= 1.00");
	if (ncpus > 1)
		row("semaphore ping-pong, 2 processes, two CPUs", ipp2, gpp2, "<= 1.00");
	return 0;
}
