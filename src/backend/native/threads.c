/*
 * The platform hooks of src/backend/csrc/pfs.h for the Node addon: a small pool of POSIX threads
 * behind pfs_parallel, and aligned malloc behind pfs_alloc.
 *
 * pfs_parallel(task, ctx, nt) runs task 0 on the calling (JavaScript) thread and tasks 1..nt−1 on
 * pool workers, each handed its job through its own mailbox. Workers wait for a new job by spinning
 * briefly (a job usually follows soon after the last one, during a training step) and then sleep on
 * a condition variable. The pool serves one job at a time: a call made while another is running
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
  pfs_task task;
  void *ctx;
  int t, nt;
} worker;

static worker workers[PFS_MAX_WORKERS];
static int nworkers;             /* started so far */
static atomic_int pending;       /* tasks of the current job that workers have not finished */
static atomic_int sleepers;      /* workers waiting on the condition variable */
static atomic_flag busy = ATOMIC_FLAG_INIT; /* set while a job owns the pool */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
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
    w->task(w->ctx, w->t, w->nt);
    atomic_fetch_sub_explicit(&pending, 1, memory_order_acq_rel);
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
  atomic_store(&pending, nt - 1);
  for (int i = 0; i < nt - 1; i++) {
    worker *w = &workers[i];
    w->task = task;
    w->ctx = ctx;
    w->t = i + 1;
    w->nt = nt;
    atomic_fetch_add(&w->gen, 1); /* publishes the fields above */
  }
  if (atomic_load(&sleepers) > 0) {
    pthread_mutex_lock(&lock);
    pthread_cond_broadcast(&wake);
    pthread_mutex_unlock(&lock);
  }
  task(ctx, 0, nt);
  /* wait for the workers; past a spin, give the core away (a worker may be waiting for one) */
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
