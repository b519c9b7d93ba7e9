/*
 * The platform hooks of src/backend/csrc/pfs.h for the Node addon: a small pool of POSIX threads
 * behind pfs_parallel, and aligned malloc behind pfs_alloc.
 *
 * pfs_parallel(task, ctx, nt) wakes nt − 1 pool workers (each has a mailbox whose counter it watches),
 * and the calling (JavaScript) thread and the workers then claim the tasks 0..nt−1 one at a time from
 * one shared word, so a task is run by whichever thread gets to it first. A worker that is slow to
 * start (asleep, or without a core while V8's own threads run: on a 2-core machine the usual case in
 * a training step) leaves its tasks to the caller rather than making it wait; the caller waits only
 * for tasks already claimed. The job's task and context are read only after a successful claim, while
 * the job cannot end, so a worker that wakes late never runs a task with another job's context.
 * Workers wait for a new job by spinning briefly (a job usually follows soon after the last one,
 * during a training step) and then sleep on a condition variable. The pool serves one job at a time: a call made while another is running
 * (from a second JavaScript worker thread, or nested inside a task) runs its tasks one after
 * another on the calling thread.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "../csrc/pfs.h"

#define PFS_MAX_WORKERS (PFS_MAX_THREADS - 1)
/* How many polls a worker makes before it sleeps (about 100 µs: a pause is some 25 ns on x86). */
#define SPIN_POLLS 4000

/* One worker's mailbox, a cache line of its own: the main thread fills in a job, then bumps `gen`. */
typedef struct {
  _Alignas(64) atomic_uint gen;
} worker;

static worker workers[PFS_MAX_WORKERS];
static int nworkers;             /* started so far */
static atomic_int pending;       /* tasks of the current job not finished yet */
/* The current job: (job number << 32) | (nt << 16) | the next task to claim. */
static _Alignas(64) _Atomic uint64_t claim;
static uint32_t job_seq;         /* the main thread's count of jobs */
static pfs_task job_task;        /* written by the main thread only while no task is pending */
static void *job_ctx;
static atomic_int sleepers;      /* workers waiting on the condition variable */
static atomic_flag busy = ATOMIC_FLAG_INIT; /* set while a job owns the pool */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Claim and run tasks of the current job until none is left unclaimed. */
static void run_claimed(void) {
  uint64_t v = atomic_load_explicit(&claim, memory_order_acquire);
  for (;;) {
    const int nt = (int)((v >> 16) & 0xffff), t = (int)(v & 0xffff);
    if (t >= nt) return;
    if (atomic_compare_exchange_weak_explicit(&claim, &v, v + 1, memory_order_acq_rel, memory_order_acquire)) {
      /* task t is ours: the job cannot end (nor its task and context change) before we finish it */
      job_task(job_ctx, t, nt);
      atomic_fetch_sub_explicit(&pending, 1, memory_order_acq_rel);
      v = atomic_load_explicit(&claim, memory_order_acquire);
    }
  }
}

static void *worker_main(void *arg) {
  worker *w = arg;
  unsigned seen = 0; /* mailboxes start at 0 and only the main thread bumps them */
  for (;;) {
    int polls = 0;
    while (atomic_load_explicit(&w->gen, memory_order_acquire) == seen && polls < SPIN_POLLS) {
      cpu_relax();
      polls++;
    }
    if (atomic_load(&w->gen) == seen) {
      pthread_mutex_lock(&lock);
      atomic_fetch_add(&sleepers, 1);
      while (atomic_load(&w->gen) == seen) pthread_cond_wait(&wake, &lock);
      atomic_fetch_sub(&sleepers, 1);
      pthread_mutex_unlock(&lock);
    }
    seen = atomic_load(&w->gen);
    run_claimed();
  }
  return NULL;
}

/* Start workers until there are `want` of them; returns how many there are. */
static int ensure_workers(int want) {
  if (want > PFS_MAX_WORKERS) want = PFS_MAX_WORKERS;
  while (nworkers < want) {
    pthread_t th;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    const int ok = pthread_create(&th, &attr, worker_main, &workers[nworkers]) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) break;
    nworkers++;
  }
  return nworkers;
}

static void run_serially(pfs_task task, void *ctx, int nt) {
  for (int t = 0; t < nt; t++) task(ctx, t, nt);
}

void pfs_parallel(pfs_task task, void *ctx, int nt) {
  if (nt <= 1) {
    task(ctx, 0, 1);
    return;
  }
  if (atomic_flag_test_and_set_explicit(&busy, memory_order_acquire)) {
    run_serially(task, ctx, nt); /* the pool is in use (nested call, or another JavaScript thread) */
    return;
  }
  if (ensure_workers(nt - 1) < nt - 1) {
    atomic_flag_clear_explicit(&busy, memory_order_release);
    run_serially(task, ctx, nt);
    return;
  }
  job_task = task;
  job_ctx = ctx;
  atomic_store(&pending, nt);
  /* publishes the task and context with the job (release); nt ≤ PFS_MAX_THREADS fits its 16 bits */
  atomic_store_explicit(&claim, ((uint64_t)++job_seq << 32) | ((uint64_t)nt << 16), memory_order_release);
  for (int i = 0; i < nt - 1; i++) atomic_fetch_add(&workers[i].gen, 1);
  if (atomic_load(&sleepers) > 0) {
    pthread_mutex_lock(&lock);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
  }
  run_claimed();
  /* wait for the tasks the workers claimed; past a spin, give the core away (a worker may be waiting for one) */
  for (int polls = 0; atomic_load_explicit(&pending, memory_order_acquire) > 0; polls++) {
    if (polls < SPIN_POLLS) cpu_relax(); else sched_yield();
  }
  atomic_flag_clear_explicit(&busy, memory_order_release);
}

void *pfs_alloc(size_t bytes) {
  void *p = NULL;
  if (bytes == 0) bytes = 64;
  return posix_memalign(&p, 64, bytes) == 0 ? p : NULL;
}

void pfs_free(void *p) { free(p); }
